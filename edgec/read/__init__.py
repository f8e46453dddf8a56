"""The API budget every reader shares: counted calls, Cloudflare's pacing, read errors. (The readers
themselves are in each layer's package: edgec/layers/*/read.py.)"""
