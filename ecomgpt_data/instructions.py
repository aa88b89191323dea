"""The instruction schema and its rendering in the evaluation suite's format.

Six components, as in the paper: task description, prompt, input, candidate labels (CLS / NER and the like),
output constraint, output. Rendered as the evaluation prompt is (`ecom_tasks.prompts.PROMPT_HEAD` +
`### Instruction:` ... `### Response:`), so training and test prompts have the same shape. A training
text is `prompt + RESPONSE_SEPARATOR + response`.

Every prompt family has at least three hand-written paraphrases per language, chosen per instance with the
caller's seeded RNG. `{description}` in a paraphrase is the task's description in the prompt language.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ecom_tasks.prompts import ANSWER_SEP, PROMPT_HEAD

RESPONSE_SEPARATOR = "\n"
PROMPT_LANGS = ("en", "zh", "mixed")
HEAD_WITHOUT_DESCRIPTION = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n"
)
CANDIDATES = {"en": "Candidates: {labels}.", "zh": "候选：{labels}。"}

PROMPTS: dict[str, dict[str, list[str]]] = {
    "ner": {
        "en": ["Extract all named entities with their types from the text above.",
               "Find every entity in the sentence and give its type.",
               "Recognise the entities of each type in the text."],
        "zh": ["抽取上述文本中的所有命名实体及其类型。", "找出句子中的每个实体并给出它的类型。", "识别文本中各个类型的实体。"],
    },
    "span_detection": {
        "en": ["Detect all entity spans in the sentence above.", "List every entity mentioned in the text.",
               "Which spans of the text are entities? Give them all."],
        "zh": ["检测上述句子中的所有实体片段。", "列出文本中提到的每一个实体。", "文本中哪些片段是实体？请全部给出。"],
    },
    "entity_typing": {
        "en": ["What is the type of the given entity in this sentence?", "Classify the entity into one of the types.",
               "Give the type of the entity mentioned after the text."],
        "zh": ["给定实体在句子中的类型是什么？", "将该实体归入一个类型。", "给出文本后所列实体的类型。"],
    },
    "typed_extraction": {
        "en": ["Extract every entity of the given type from the text.", "Which spans of the text are of this type?",
               "List the entities of the candidate type that the sentence mentions."],
        "zh": ["从文本中抽取给定类型的所有实体。", "文本中哪些片段属于这个类型？", "列出句子中提到的该候选类型的实体。"],
    },
    "classify": {
        "en": ["Perform {description} on the text above.", "Which label fits the text for {description}?",
               "Read the text and decide the label ({description})."],
        "zh": ["对上述文本进行{description}。", "就{description}而言，哪个标签符合这段文本？", "阅读文本并判断标签（{description}）。"],
    },
    "generate_from_labels": {
        "en": ["Write a text that has the properties listed above.", "Compose a text matching the given labels.",
               "Given these labels, write a fitting text."],
        "zh": ["写一段具有上述属性的文本。", "根据给定的标签撰写一段文本。", "按照这些标签，写出相符的文字。"],
    },
    "aspect_polarity": {
        "en": ["What sentiment does the text express about the given aspect?",
               "Classify the polarity towards the aspect.", "Is the opinion on this aspect positive or negative?"],
        "zh": ["文本对给定方面表达了什么情感？", "判断对该方面的情感极性。", "对这个方面的评价是正面还是负面？"],
    },
    "aspect_extraction": {
        "en": ["Extract the aspect terms that the review comments on.", "Which product aspects does the text discuss?",
               "List the opinion targets mentioned in the review."],
        "zh": ["抽取评论所评价的方面词。", "文本讨论了产品的哪些方面？", "列出评论中提到的评价对象。"],
    },
    "aspect_sentiment": {
        "en": ["Extract the aspect terms grouped by the sentiment expressed about them.",
               "For each polarity, list the aspects the review judges that way.",
               "Find the opinion targets and sort them by sentiment."],
        "zh": ["按情感极性抽取评论中的方面词。", "对每种极性，列出评论以该极性评价的方面。", "找出评价对象并按情感归类。"],
    },
    "attribute_polarity": {
        "en": ["What is the sentiment towards the given aspect category?",
               "Classify the polarity of the opinion on this category.",
               "How does the review judge the aspect category?"],
        "zh": ["对给定方面类别的情感是什么？", "判断对该类别评价的情感极性。", "评论如何评价这个方面类别？"],
    },
    "extractive_qa": {
        "en": ["Extract spans from the context to answer the question.",
               "Answer the question with text copied from the context.",
               "Find the part of the context that answers the question."],
        "zh": ["从上下文中抽取片段回答问题。", "用上下文中的原文回答问题。", "找出上下文中回答该问题的部分。"],
    },
    "question_generation": {
        "en": ["Write the question that the answer above responds to.", "Generate a question about the context whose answer is given.",
               "What question would a shopper ask to get this answer?"],
        "zh": ["写出上述答案所回答的问题。", "根据上下文生成一个以给定内容为答案的问题。", "顾客问什么问题会得到这个答案？"],
    },
    "answerability": {
        "en": ["Can the question be answered from the context?", "Decide whether the context answers the question.",
               "Does the context contain the answer to the question?"],
        "zh": ["能否根据上下文回答这个问题？", "判断上下文是否回答了问题。", "上下文中是否包含问题的答案？"],
    },
    "pair_matching": {
        "en": ["Determine whether item 1 and item 2 refer to the same product.", "Are these two listings the same product?",
               "Decide if the two items describe one product."],
        "zh": ["判断商品1和商品2是否为同一商品。", "这两个商品是同一件商品吗？", "判断两个条目是否描述同一商品。"],
    },
    "title_attribute_matching": {
        "en": ["Determine whether the product title and attributes match.", "Do these attributes belong to the product with this title?",
               "Check whether the title and the attributes describe the same product."],
        "zh": ["判断商品标题与属性是否匹配。", "这些属性属于该标题的商品吗？", "检查标题和属性是否描述同一商品。"],
    },
    "candidate_select": {
        "en": ["Select the document from the candidates that best matches the query. Output the document content only.",
               "Which candidate is the product the query refers to? Copy it.", "Pick the candidate that matches the query."],
        "zh": ["从候选中选出与查询最匹配的文档，只输出文档内容。", "哪个候选是查询所指的商品？请照抄。", "选出与查询匹配的候选。"],
    },
    "title_generation": {
        "en": ["Generate a product title based on the attribute information above.", "Write the title of the product with these attributes.",
               "Compose a product title from the attributes."],
        "zh": ["根据上述属性信息生成商品标题。", "为具有这些属性的商品写一个标题。", "根据属性撰写商品标题。"],
    },
    "attribute_value_extraction": {
        "en": ["Extract the value of the candidate attribute from the product title.", "What does the title say for this attribute?",
               "Copy the attribute value from the title."],
        "zh": ["从商品标题中抽取候选属性的值。", "标题中该属性的值是什么？", "从标题中照抄该属性的值。"],
    },
    "copy_from_attributes": {
        "en": ["Write advertising copy for the product described by these attributes.",
               "Generate a product description from the attributes above.", "Compose marketing text for this product."],
        "zh": ["根据这些属性为商品撰写广告文案。", "依据上述属性生成商品描述。", "为该商品写一段营销文案。"],
    },
    "attributes_from_copy": {
        "en": ["Extract the attribute values that the copy states, by attribute.", "Which attribute values does this product text mention?",
               "List the stated values for each candidate attribute."],
        "zh": ["按属性抽取文案中提到的属性值。", "这段商品文案提到了哪些属性值？", "列出每个候选属性在文中的取值。"],
    },
    "attribute_classification": {
        "en": ["Which product type has these attributes?", "Classify the product from its attributes.",
               "Decide the product type given the other attributes."],
        "zh": ["具有这些属性的是哪类商品？", "根据属性对商品分类。", "根据其他属性判断商品类型。"],
    },
    "response_selection": {
        "en": ["Select the best reply to the dialogue from the candidates. Output the reply only.",
               "Which candidate response continues the conversation? Copy it.", "Pick the customer-service reply that fits."],
        "zh": ["从候选中选出对话的最佳回复，只输出回复。", "哪个候选回复能接续这段对话？请照抄。", "选出合适的客服回复。"],
    },
    "response_generation": {
        "en": ["Write the next reply in this dialogue.", "Continue the conversation with one reply.",
               "How should the next speaker respond?"],
        "zh": ["写出这段对话的下一句回复。", "用一句话接续对话。", "下一位说话人应如何回应？"],
    },
    "response_matching": {
        "en": ["Does the response fit the dialogue?", "Decide whether the reply is a proper continuation.",
               "Is this a suitable response to the conversation?"],
        "zh": ["该回复是否符合对话？", "判断这条回复是否恰当地接续了对话。", "这是对这段对话的合适回复吗？"],
    },
}

PROMPTS.update({
    "query_rewriting": {
        "en": ["Rewrite the search query so that it states the shopper's need clearly.", "Give a clearer version of this query.",
               "Reformulate the e-commerce query, keeping its intent."],
        "zh": ["改写这个搜索查询，让购物需求表达得更清楚。", "给出这个查询更清晰的说法。", "在保持意图的前提下改写这个电商查询。"],
    },
    "query_segmentation": {
        "en": ["Split the search query into its meaningful segments.", "Segment the query into product, attributes and modifiers.",
               "Which parts make up this query? Separate them."],
        "zh": ["把搜索查询切分成有意义的片段。", "将查询切分为商品、属性和修饰词。", "这个查询由哪些部分组成？请分开。"],
    },
    "review_summary": {
        "en": ["Summarise the review in one short sentence.", "What does this review say, in brief?",
               "Write a one-line summary of the customer review."],
        "zh": ["用一句简短的话总结这条评论。", "这条评论说了什么？请简要概括。", "为这条顾客评论写一句话摘要。"],
    },
    "selling_points": {
        "en": ["List selling points of the product with this title.", "What would make a shopper buy this product?",
               "Write short selling points for this product."],
        "zh": ["列出该标题商品的卖点。", "什么会让顾客购买这件商品？", "为这件商品写几条简短卖点。"],
    },
})

# Generic families for the later sources: the task's description carries what is specific.
PROMPTS.update({
    "generate": {
        "en": ["Perform {description} for the input above.", "Write the output of {description} for this input.",
               "Given the input, carry out {description}."],
        "zh": ["对上述输入完成{description}。", "针对这段输入写出{description}的结果。", "根据输入进行{description}。"],
    },
    "extract": {
        "en": ["Perform {description}: copy the items from the text above.", "List what the text holds for {description}.",
               "Which parts of the text answer {description}? Copy them."],
        "zh": ["进行{description}：从上述文本中原样复制。", "列出文本中属于{description}的内容。", "文本中哪些部分是{description}的答案？请照抄。"],
    },
    "select": {
        "en": ["Select the right candidate for {description}.", "Which of the candidates is right ({description})?",
               "Pick one candidate for {description} and copy it."],
        "zh": ["为{description}选出正确的候选。", "哪个候选是正确的（{description}）？", "为{description}挑选一个候选并照抄。"],
    },
    "match": {
        "en": ["Do the two parts above belong together ({description})?", "Decide whether they match: {description}.",
               "Is this pair a match for {description}?"],
        "zh": ["上面两部分是否对应（{description}）？", "判断它们是否匹配：{description}。", "这一对内容在{description}上是否匹配？"],
    },
    "attribute_value_lines": {
        "en": ["Extract the value of each candidate attribute from the product title.",
               "For every candidate attribute, what value does the title give?",
               "Fill in each candidate attribute from the title."],
        "zh": ["从商品标题中抽取每个候选属性的值。", "对每个候选属性，标题给出的值是什么？", "根据标题填写每个候选属性。"],
    },
    "opinion_summary": {
        "en": ["Summarise the opinions of the reviews above.", "Write a short summary of what these reviewers think.",
               "What do the customers say overall? Summarise the reviews."],
        "zh": ["总结上述评论的观点。", "简要概括这些评论者的看法。", "顾客总体上怎么说？请总结这些评论。"],
    },
    "answer_generation": {
        "en": ["Answer the question using the evidence above.", "Write an answer to the shopper's question from the given evidence.",
               "Based on the evidence, how would you answer the question?"],
        "zh": ["根据上述证据回答问题。", "根据给定证据写出对顾客问题的回答。", "基于证据，你会如何回答这个问题？"],
    },
})
FAMILY_CONSTRAINT_LATER = {"generate": "text", "extract": "spans", "select": "copy_one",
                           "attribute_value_lines": "ner_lines", "opinion_summary": "text", "answer_generation": "text"}

NARROW_PROMPTS = {
    "CLS": {"en": "Classify the input.", "zh": "对输入进行分类。"},
    "EXT": {"en": "Extract the answer from the input.", "zh": "从输入中抽取答案。"},
    "GEN": {"en": "Generate the output for the input.", "zh": "根据输入生成输出。"},
    "NER": {"en": "Recognise the entities in the input.", "zh": "识别输入中的实体。"},
}

CONSTRAINTS = {
    "one_label": {"en": "Answer with one of the candidates only.", "zh": "只用一个候选作答。"},
    "labels": {"en": "Answer with the matching candidates, separated by ', '.", "zh": "用候选作答，多个以“, ”分隔。"},
    "ner_lines": {"en": "Write one line per candidate type as 'type: entity, entity', or 'type: None'.",
                  "zh": "每个候选类型一行，写作“类型: 实体, 实体”，没有则写“类型: None”。"},
    "spans": {"en": "Copy the spans exactly from the text, separated by ', '; answer None if there is none.",
              "zh": "从文本中原样复制片段，以“, ”分隔；没有则回答None。"},
    "copy_one": {"en": "Copy one candidate exactly.", "zh": "原样复制一个候选。"},
    "text": {"en": "Write the text only.", "zh": "只写出文本。"},
}

FAMILY_CONSTRAINT = {
    "ner": "ner_lines", "aspect_sentiment": "ner_lines", "attributes_from_copy": "ner_lines",
    "span_detection": "spans", "typed_extraction": "spans", "aspect_extraction": "spans", "extractive_qa": "spans",
    "attribute_value_extraction": "spans",
    "candidate_select": "copy_one", "response_selection": "copy_one",
    "question_generation": "text", "generate_from_labels": "text", "title_generation": "text",
    "copy_from_attributes": "text", "response_generation": "text",
    "query_rewriting": "text", "query_segmentation": "text", "review_summary": "text", "selling_points": "text",
    **FAMILY_CONSTRAINT_LATER,
}


@dataclass(frozen=True)
class Instruction:
    description: str
    prompt: str
    input: str
    candidates: tuple[str, ...]
    constraint: str
    output: str
    lang: str  # the prompt language

    def render(self, with_description: bool = True) -> str:
        head = PROMPT_HEAD.format(defi=self.description) if with_description else HEAD_WITHOUT_DESCRIPTION
        tail = [self.prompt]
        if self.candidates:
            tail.append(CANDIDATES[self.lang].format(labels=ANSWER_SEP.join(self.candidates)))
        if self.constraint:
            tail.append(self.constraint)
        return f"{head}### Instruction:\n{self.input}\n{' '.join(tail)}\n### Response:"


def constraint_key(family: str, paradigm: str, multi_label: bool = False) -> str:
    if family in FAMILY_CONSTRAINT:
        return FAMILY_CONSTRAINT[family]
    return "labels" if multi_label else "one_label" if paradigm == "CLS" else "text"


def make_instruction(*, family: str, paradigm: str, description: tuple[str, str], input: str, output: str,
                     candidates: tuple[str, ...], lang: str, rng: random.Random, narrow: bool = False,
                     with_constraint: bool = True) -> Instruction:
    """The instruction for one example; `lang` is the prompt language ("en" or "zh")."""
    desc = description[0] if lang == "en" or not description[1] else description[1]
    prompt = NARROW_PROMPTS[paradigm][lang] if narrow else rng.choice(PROMPTS[family][lang]).format(description=desc)
    multi = ANSWER_SEP in output and paradigm == "CLS"
    constraint = CONSTRAINTS[constraint_key(family, paradigm, multi)][lang] if with_constraint else ""
    return Instruction(desc, prompt, input, candidates, constraint, output, lang)
