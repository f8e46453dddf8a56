"""What edgec does with SIGINT and SIGTERM while a Terraform command runs, against a stand-in for
Terraform (a shell script) that behaves as Terraform does: the first SIGINT stops it gracefully, the
second stops it at once, and a provider plugin it started ignores SIGINT. The real thing is tested end
to end in test_apply_interrupt.py."""

from __future__ import annotations

import os
import pathlib
import signal
import stat
import threading
import time

import pytest

from edgec.apply.resume import was_interrupted
from edgec.apply.terraform import Terraform, TerraformError, TerraformInterrupted

# The plugin is started before the trap is set, as a background job: bash starts those with SIGINT ignored
# (no job control), so no SIGINT can reach it before it ignores it. (Started from a subshell that set
# `trap '' INT` itself, a SIGINT could come first, and bash then spun in its trap with the subshell dead.)
FAKE_TERRAFORM = """#!/bin/bash
sleep 300 &
echo "plugin $!"
trap 'n=$((n+1)); echo "SIGINT $n"; if [ $n -ge 2 ]; then echo "stopped at once"; exit 1; fi; stop=1' INT
echo "Creating..."
while [ -z "$stop" ]; do sleep 0.05; done
sleep 0.5
echo "stopped gracefully"
exit 1
"""


@pytest.fixture(autouse=True)
def handlers():
    """edgec leaves reporting handlers in place once interrupted (it is about to exit); pytest is not."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture()
def terraform(tmp_path) -> Terraform:
    script = tmp_path / "terraform"
    script.write_text(FAKE_TERRAFORM)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "aws").mkdir()
    return Terraform(str(script))


def interrupted(terraform: Terraform, layer_dir: pathlib.Path, signals: list[int]) -> tuple[TerraformInterrupted, str]:
    """Apply with the stand-in, sending `signals` to this process once it is "creating"."""
    lines = []

    def echo(line: str) -> None:
        lines.append(line)
        if line == "Creating...":
            for signum in signals:
                os.kill(os.getpid(), signum)
                time.sleep(0.05)

    with pytest.raises(TerraformInterrupted) as caught:
        terraform.apply(str(layer_dir), echo)
    return caught.value, "\n".join(lines)


def alive(pid: int) -> bool:
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def plugin_pid(output: str) -> int:
    return int(next(line for line in output.splitlines() if line.startswith("plugin ")).split()[1])


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_one_interruption_reaches_terraform_as_one_sigint_and_edgec_waits_for_it(terraform, tmp_path, capsys,
                                                                                signum, code):
    error, output = interrupted(terraform, tmp_path / "aws", [signum])
    assert output.count("SIGINT") == 1 and "stopped gracefully" in output  # edgec read to Terraform's end
    assert error.exit_code == code
    assert str(error) == (f"interrupted ({signal.Signals(signum).name}) while Terraform applied the aws layer; "
                          "Terraform stopped gracefully and saved its state. What it had not started in this layer, "
                          "and every layer after it, was not applied. Run `edgec apply` again to converge.")
    assert "Terraform was asked to stop gracefully" in capsys.readouterr().err
    assert was_interrupted(str(tmp_path / "aws"))  # the next apply resumes the layer


def test_a_second_interruption_is_reported_not_forwarded(terraform, tmp_path, capsys):
    error, output = interrupted(terraform, tmp_path / "aws", [signal.SIGINT, signal.SIGINT])
    assert output.count("SIGINT") == 1 and "stopped gracefully" in output
    assert "still waiting for Terraform to stop and save its state" in capsys.readouterr().err
    assert "stopped gracefully and saved its state" in str(error)


def test_a_third_interruption_stops_terraform_at_once_and_says_what_that_may_cost(terraform, tmp_path, capsys):
    error, output = interrupted(terraform, tmp_path / "aws", [signal.SIGINT] * 3)
    assert output.count("SIGINT") == 2 and "stopped at once" in output
    assert "told to stop at once" in capsys.readouterr().err
    assert "was forced to stop at once: what it was changing may be missing from its state" in str(error)


def test_no_process_terraform_started_outlives_it(terraform, tmp_path):
    _, output = interrupted(terraform, tmp_path / "aws", [signal.SIGINT])
    plugin, killed_by = plugin_pid(output), time.monotonic() + 2  # a SIGKILL takes effect when it is scheduled
    while alive(plugin) and time.monotonic() < killed_by:
        time.sleep(0.05)
    assert not alive(plugin)  # the stand-in's plugin ignores SIGINT and would sleep for five minutes


def test_once_terraform_has_stopped_a_late_interruption_is_reported_and_edgec_finishes(terraform, tmp_path, capsys):
    interrupted(terraform, tmp_path / "aws", [signal.SIGTERM])
    os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: the report of what was applied is not cut short
    assert "SIGINT received again: Terraform has stopped; edgec is finishing." in capsys.readouterr().err


def test_an_uninterrupted_command_leaves_the_signal_handlers_as_they_were(tmp_path):
    script = tmp_path / "terraform"
    script.write_text("#!/bin/sh\necho '{}'\n")
    script.chmod(0o755)
    assert Terraform(str(script)).outputs(str(tmp_path)) == {}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_an_interrupted_plan_says_nothing_more_was_applied(terraform, tmp_path):
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()  # while its output is collected
    with pytest.raises(TerraformInterrupted) as caught:
        terraform.plan(str(tmp_path / "aws"))
    assert caught.value.exit_code == 143
    assert str(caught.value).startswith("interrupted (SIGTERM) during `terraform plan` of the aws layer; Terraform "
                                        "stopped gracefully and saved its state. Nothing more was applied")
    assert not was_interrupted(str(tmp_path / "aws"))  # a plan applies nothing: nothing to resume


def test_terraform_output_that_is_not_utf8_is_shown_not_lost(tmp_path, capfd):
    """A provider's error may echo an API's bytes as they came: they are shown (as U+FFFD), the lines
    after them too, and no Python traceback is printed for them."""
    script = tmp_path / "terraform"
    script.write_bytes(b"#!/bin/sh\nprintf 'Error: bad \\377\\376 bytes\\n'\necho 'the line after'\nexit 1\n")
    script.chmod(0o755)
    (tmp_path / "aws").mkdir()
    with pytest.raises(TerraformError) as caught:
        Terraform(str(script)).plan(str(tmp_path / "aws"))
    assert "Error: bad \ufffd\ufffd bytes\nthe line after" in str(caught.value)
    assert "Traceback" not in capfd.readouterr().err
