"""The Markdown plan: brief when nothing changes, collapsed details, always under GitHub's limit."""

from edgec.diff.plan import AttributeChange, Change, Plan
from edgec.render.plan_markdown import GITHUB_COMMENT_LIMIT, render_plan_markdown as render_markdown


def test_no_changes_is_brief():
    text = render_markdown(Plan("acme", layers_read=["aws", "cloudflare"], calls={"aws": 9, "cloudflare": 11}))
    assert "✅ **No changes.**" in text and "<details>" not in text
    assert "API calls: aws 9, cloudflare 11" in text
    assert len(text) < 400


def test_5000_changes_stay_under_the_limit_with_a_truncation_note():
    changes = [Change("update", "cloudflare", "dns_record", f"host-{i}.acme.com CNAME", f"host-{i}.acme.com",
                      (AttributeChange("content", f"new-target-{i}.example.net", f"old-target-{i}.example.net"),))
               for i in range(5000)]
    text = render_markdown(Plan("acme", changes=changes, layers_read=["cloudflare"]))
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert "**Plan: 0 to create, 5000 to update" in text
    assert "more change(s) not shown" in text and "<details><summary>cloudflare: 5000 change(s)</summary>" in text
    assert text.count("</details>") == text.count("<details>")


def test_changes_and_failures_are_shown():
    plan = Plan("acme", changes=[Change("delete", "aws", "security_group_rule", "public ingress tcp/22 0.0.0.0/0",
                                        note="not in the spec | opened by hand?")],
                errors=["could not read DNS records of acme.com: HTTP 500"])
    text = render_markdown(plan)
    assert "❌ **Plan failed**" in text and "HTTP 500" in text
    assert "➖ delete | security_group_rule | `public ingress tcp/22 0.0.0.0/0`" in text
    assert "not in the spec \\| opened by hand?" in text  # table cells are escaped
