"""The 2024 generic form equals the stored reference, part by part (regenerate: python -m tests.golden)."""

from tests import golden


def test_2024_form_matches_the_reference_part_by_part(tmp_path):
    made = golden.parts(golden.make(tmp_path / "made.xlsx"))
    reference = golden.parts(golden.REFERENCE)
    assert sorted(made) == sorted(reference)
    changed = [name for name in reference if made[name] != reference[name]]
    assert not changed, f"parts differ from the reference: {changed} (if intended: python -m tests.golden)"
