"""Facts about Cloudflare that the spec checks and the IR share (from Cloudflare's documentation)."""

# Managed rulesets: their IDs are global constants.
MANAGED_RULESET_IDS = {
    "cloudflare-managed": "efb7b8c949ac4650a09736fc376e9aee",
    "owasp-core": "4814384a9e5d4991b9815dcfc25d2f1f",
    "exposed-credentials": "c2e184081120413c86c3ab7e14069605",
}
# The OWASP ruleset's last rule ("Inbound Anomaly Score Exceeded") carries its threshold and action.
OWASP_ANOMALY_RULE_ID = "6179ae15870a4bb7b2d480d4843b323c"
