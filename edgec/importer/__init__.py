"""`edgec import`: read a live estate that edgec did not build and write the spec that describes it.

The pipeline runs backwards: the layers' readers read everything in the account and VPC (read.py),
then each layer's live resources are turned into spec fields (aws.py, cloudflare.py, envoy.py) in a
`Draft`, which also collects what edgec cannot express (each a `Gap`: reported, and written as an
ignore rule with its reason) and the values import had to invent; write.py writes the files.
"""
