"""docs/answer_sheet.md is what tools/answer_sheet.py writes from the checkers' own code, and it covers every exercise
that the notebooks ask."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import answer_sheet


def test_the_committed_sheet_is_current():
    committed = answer_sheet.SHEET.read_text(encoding="utf-8")
    assert committed == answer_sheet.sheet(), "run: python tools/answer_sheet.py"


def test_the_sheet_answers_every_exercise_the_notebooks_ask():
    text = answer_sheet.SHEET.read_text(encoding="utf-8")
    asked = {
        name
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
        for name in re.findall(r"answer_checks\.(nb\d\d_\w+)", path.read_text(encoding="utf-8"))
    }
    assert len(asked) >= 15
    for name in asked:
        assert f"### `{name}`" in text
    for kind in ("naive", "inception", "aux"):
        assert f'check_module("{kind}", ...)' in text
    # Every usual mistake of a write-it-yourself exercise is caught by the checker, never passed as correct.
    assert text.count("> Not yet: ") == sum(len(mistakes) for _, _, mistakes in answer_sheet.MODULES.values())


def test_a_wrong_module_is_told_why_and_the_answer_passes():
    assert answer_sheet.module_reply("naive", answer_sheet.BatchConcat).startswith("Not yet: ")
    assert answer_sheet.module_reply("naive", answer_sheet.NaiveInception) == "Correct"
