"""Home page (AppTest): the lecture map, links to present pages, honest 'not covered' marks."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.navigation import PAGE_TABLE, present_pages

ROOT = Path(__file__).resolve().parents[2]
HOME = "dashboard/pages/home.py"
NOT_COVERED = ("Style transfer", "Text-to-image", "colorization")
LECTURE_TOPICS = (
    "Class-conditional generation", "Super-resolution", "inpainting", "uncropping",
    "DCGAN", "PatchGAN", "Conditional GAN", "Algorithm 1", "TransGAN / ViTGAN",
    "Autoencoders", "Variational autoencoders", "ELBO", "Reparameterization",
    "KL", "Bayesian networks",
)


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _topic_blocks(at: AppTest) -> dict[str, str]:
    """topic name -> the markdown that follows it (its badge), in page order."""
    values = [m.value for m in at.markdown]
    return {
        v.split("**")[1]: (values[i + 1] if i + 1 < len(values) else "")
        for i, v in enumerate(values)
        if v.startswith("**")
    }


def test_home_runs_alone_and_maps_the_lecture():
    at = AppTest.from_file(str(ROOT / HOME), default_timeout=30).run()
    assert not at.exception, at.exception
    assert "genlab" in at.title[0].value
    text = _text(at)
    for topic in LECTURE_TOPICS:
        assert topic in text, f"lecture topic {topic!r} missing from Home"
    blocks = _topic_blocks(at)
    for name, badge in blocks.items():
        if any(n.lower() in name.lower() for n in NOT_COVERED):
            assert "not covered in genlab" in badge, name
        else:
            assert "not covered" not in badge, name


def test_home_links_every_present_page_inside_the_app():
    at = AppTest.from_file(str(ROOT / "dashboard/app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    present = {title for rows in present_pages().values() for _, title, _ in rows}
    linked = {el.proto.label for el in at.get("page_link")}
    expected = present - {"Home"}
    assert expected <= linked, f"pages without a link on Home: {expected - linked}"
    for label in linked:
        assert label in {t for rows in PAGE_TABLE.values() for _, t, _ in rows}
