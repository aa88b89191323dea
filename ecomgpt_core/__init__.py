"""The ground floor: infrastructure that every other package may use and that imports none of them.

`errors` (the one error base class and the console-script wrapper), `files` (atomic publishing of files and
folders), `hashing` (file digests and the one seeded hash), `locations` (where the raw data, the evaluation
sets and the per-user cache are), `openai_client` (the OpenAI-compatible client with its cache and limiter).
"""
