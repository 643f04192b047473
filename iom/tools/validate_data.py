"""`rasa data validate`, failing on every warning but one justified kind.

Rasa 3.6's validator warns about every response not used in a story or rule, also
when a custom action utters it (it cannot see `dispatcher.utter_message(response=)`).
This script runs `rasa data validate` and fails on any warning, except "utterance X
is not used in any story or rule" for responses that a module in `actions/` names as
`response="X"` (or a channel or the language policy names as a constant), the button
titles `utter_title_*` that action_clarify reads, and a form's `utter_ask_<slot>`. It
also fails when such a response is missing from the domain.
"""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from iom.core import settings

ROOT = settings.ROOT
UNUSED = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
WARNING = re.compile(r"(UserWarning|WARNING|Warning):", re.IGNORECASE)
IGNORED = ("DeprecationWarning", "MovedIn20Warning", "PyparsingDeprecationWarning")


def responses_uttered_by_actions() -> set[str]:
    """Response names that code utters, not a story or rule.

    `response="..."` in actions/ and iom/rasa/channels/, and the `RESPONSE*` and
    `ASK_LANGUAGE` constants (the language policy predicts `utter_ask_language`; the
    console's live chat runs `RESPONSE_JOINED` and `RESPONSE_LEFT` through Rasa's API).
    """
    names: set[str] = set()
    for path in [
        *(ROOT / "actions").glob("*.py"),
        *(ROOT / "iom" / "rasa" / "channels").glob("*.py"),
        ROOT / "iom" / "rasa" / "policy.py",
        ROOT / "iom" / "console" / "rasa_api.py",  # the live chat runs two responses
    ]:
        names.update(
            re.findall(
                r'(?:response=|RESPONSE\w* = |ASK_LANGUAGE = )"(utter_\w+)"',
                path.read_text("utf-8"),
            )
        )
    return names


def main() -> int:
    """Run the validator and judge its warnings."""
    by_actions = responses_uttered_by_actions()
    domain = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))
    # action_clarify reads the button titles `utter_title_<intent>`; a form asks
    # for each required slot with `utter_ask_<slot>` (Rasa's convention).
    by_actions |= {r for r in domain["responses"] if r.startswith("utter_title_")}
    by_actions |= {
        f"utter_ask_{slot}"
        for form in (domain.get("forms") or {}).values()
        for slot in form.get("required_slots") or []
    }
    missing = by_actions - set(domain["responses"])
    if missing:
        print(f"actions utter responses missing from domain.yml: {sorted(missing)}")
        return 1
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = run.stdout + run.stderr
    problems = []
    for line in output.splitlines():
        if not WARNING.search(line) or any(kind in line for kind in IGNORED):
            continue
        unused = UNUSED.search(line)
        if unused and unused.group(1) in by_actions:
            continue
        problems.append(line.strip())
    if run.returncode != 0 or problems:
        print(output[-4000:] if run.returncode else "")
        print("\n".join(problems) or f"rasa data validate exited {run.returncode}")
        return 1
    print(
        f"rasa data validate: no warnings (besides {len(by_actions)} responses"
        " uttered only by custom actions)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
