"""The book (salt_lib.book): built from the committed thesis run, and from the quick run where
its figures and tables exist (after `make workbook`, or nbval, which executes notebooks/).

The thesis build reads reports/thesis/*.ipynb, figures/ and tables/, all committed, so it runs in
a fresh clone in a few seconds; `make test` runs these tests again after nbval, when the quick
profile's outputs exist (CHAPTERS=notebooks: the committed quick chapters).
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from salt_lib.book import BookError, build_book, profile_sources
from salt_lib.book.document import number_headings, with_refs
from salt_lib.book.sources import read_chapter, read_markdown_table, saved_names
from salt_lib.book.values import Value, fill, numbers_in, read_values, table_value
from salt_lib.files import REPO

QUICK_TABLES = REPO / "reports" / "quick" / "tables"


@pytest.fixture(scope="module")
def thesis(tmp_path_factory):
    return build_book("thesis", "en", out_dir=tmp_path_factory.mktemp("book"), say=lambda line: None)


@pytest.fixture(scope="module")
def thesis_zh(tmp_path_factory):
    return build_book("thesis", "zh", out_dir=tmp_path_factory.mktemp("book-zh"), html=False, say=lambda line: None)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if not (QUICK_TABLES / "06_comparison.csv").is_file():
        pytest.skip("no quick run yet (reports/quick/tables): `make workbook` or nbval writes it")
    return build_book("quick", "en", chapters_dir=REPO / "notebooks", out_dir=tmp_path_factory.mktemp("quick"), say=lambda line: None)


def books(request):
    return [request.getfixturevalue("thesis")] + ([request.getfixturevalue("quick")] if (QUICK_TABLES / "06_comparison.csv").is_file() else [])


# --------------------------------------------------------------------------------------------
# The built book
# --------------------------------------------------------------------------------------------


def test_seven_chapters_and_the_parts_of_a_thesis(thesis):
    assert [c.number for c in thesis.chapters] == [1, 2, 3, 4, 5, 6, 7]
    assert thesis.outputs["pdf"].stat().st_size > 100_000
    body = (REPO / "build" / "book" / "thesis-en" / "body.typ").read_text()
    for part in ("<abstract>", "#contents-page", "<introduction>", "<conclusions>", "#references-page", "<appendix>"):
        assert part in body, part
    assert thesis.outputs["pdf"].read_bytes().startswith(b"%PDF")


def test_every_float_numbered_captioned_and_referenced(request):
    for book in books(request):
        assert len(book.floats) > 30
        text = book.markdown
        for label, block in book.floats.items():
            chapter = int(block.name[:2])
            assert re.fullmatch(rf"{chapter}\.\d+", block.number), label
            assert len(block.caption) > 20 and block.caption.lower().rstrip(".") != block.name[3:].replace("_", " "), label
            assert book.references[label] >= 1, label
            word = "Figure" if block.kind == "figure" else "Table"
            assert f"[{word} {block.number}](#{label})" in text, label
            assert text.count(f"<{label}>") == 1 and text.count(f'id="{label}"') == 1, label
        numbers = [(b.kind, b.number) for b in book.floats.values()]
        assert len(numbers) == len(set(numbers))  # no two figures (or tables) share a number


def test_no_reference_unresolved(request):
    for book in books(request):
        page = book.outputs["html"].read_text()
        targets = set(re.findall(r'href="#([^"]+)"', page))
        ids = set(re.findall(r'id="([^"]+)"', page))
        assert targets and targets <= ids, sorted(targets - ids)
        assert "???" not in page and "citeproc" not in page.lower()
        # Typst fails on a link to a missing label, so a PDF that exists has none; every cited key is in the .bib.
        bib = (REPO / "book" / "references.bib").read_text()
        for key in book.cited:
            assert f"{{{key}," in bib


def test_no_code_and_no_program_output(thesis):
    text = thesis.markdown
    for code in ("report.save_figure", "import ", "evaluate.evaluate_model", "# Parameters", "NBVAL_CHECK_OUTPUT"):
        assert code not in text, code
    # printed lines outside a Findings section are program output: the executed chapters print
    # none (their progress goes to the log), and none could reach the book
    printed = []
    for notebook in sorted((REPO / "reports" / "thesis").glob("0*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "markdown" and "## Findings" in "".join(cell["source"]):
                break
            for output in cell.get("outputs", []):
                if output["output_type"] == "stream":
                    for line in "".join(output["text"]).splitlines():
                        if len(line.strip()) > 25:
                            printed.append(f"{notebook.name}: {line.strip()}")
                            assert line.strip() not in text, line
    assert not printed, printed[:5]


def test_abstract_numbers_are_the_tables_numbers(request):
    """Every decimal in the abstract is a cell of the table that values.yaml names, rounded as
    shown; and the two networks' scores and their difference are there."""
    definitions = yaml.safe_load((REPO / "book" / "values.yaml").read_text())
    for book in books(request):
        _, _, tables_dir = profile_sources(book.profile, REPO / "notebooks" if book.profile == "quick" else None)
        abstract = "\n".join(book.abstract)
        shown = set()
        for spec in definitions.values():
            path = tables_dir / f"{spec['table']}.csv"
            if path.is_file():
                table = pd.read_csv(path)
                shown |= {round(float(x), 3) for x in table.select_dtypes("number").to_numpy().ravel()}
        written = numbers_in(abstract)
        assert len(written) >= 9
        assert all(round(x, 3) in shown for x in written), [x for x in written if round(x, 3) not in shown]
        comparison = pd.read_csv(tables_dir / "06_comparison.csv").set_index("model")
        for model in ("U-Net", "ResUNet"):
            row = comparison.loc[model]
            assert f"{row.tgs_score:.3f} [{row.tgs_score_ci_low:.3f}, {row.tgs_score_ci_high:.3f}]" in abstract
        paired = pd.read_csv(tables_dir / "06_paired_bootstrap.csv").iloc[0]
        assert f"{paired.mean_difference:+.3f} [{paired.ci_low:+.3f}, {paired.ci_high:+.3f}]" in abstract
        assert "{" not in abstract and "}" not in abstract


def test_appendix_from_the_records(thesis):
    appendix = thesis.markdown.split("{#appendix .unnumbered}")[1]
    record = json.loads((REPO / "models" / "unet_lite.config.json").read_text())
    assert record["provenance"]["data_fingerprint"] in appendix
    assert record["provenance"]["split_hash"] in appendix
    assert record["provenance"]["command"] in appendix
    assert f"{record['wall_seconds'] / 60:.1f} min" in appendix
    assert "NVIDIA H200" in appendix and "keras" in appendix


def test_chinese_book_embeds_a_cjk_font(thesis_zh):
    pdf = thesis_zh.outputs["pdf"].read_bytes()
    text = pdf
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            pass
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+NotoSansSC", text), "no embedded Noto Sans SC subset"
    assert re.search(rb"/FontFile2", text)
    markdown = thesis_zh.markdown
    for word in ("# 摘要", "[图 6.1](#fig-06_coverage_bins)", "表 6.1", "# 8 结论", "附录 A"):
        assert word in markdown, word
    assert any("与零无法区分" in p or "显著" in p for p in thesis_zh.abstract)


# --------------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------------


def test_saved_names_from_literals_and_chapter_fstrings():
    source = ('report.save_figure(report.plot_x(a), f"{chapter}_architecture", figures_dir)\n'
              'report.save_table(t, "06_comparison", tables_dir, caption="A caption.")\nprint("07_not_saved")')
    assert saved_names(source, "04") == [("figure", "04_architecture"), ("table", "06_comparison")]


def _png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (4, 4), "white").save(path)


def test_a_chapter_in_its_newer_form(tmp_path):
    """Markdown outputs are kept; streams, data-frame views and code are not; a saved figure
    and table come from their files with their captions."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "tables").mkdir()
    _png(tmp_path / "figures" / "09_curve.png")
    (tmp_path / "tables" / "09_scores.md").write_text("Table: Scores of the thing (part 1 of 2).\n\n| Model | Score |\n|---|---:|\n| a | 0.5 |\n\n"
                                                      "Table: Scores of the thing (part 2 of 2).\n\n| Model | IoU |\n|---|---:|\n| a | 0.7 |\n")
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# 9 · A chapter\n\nIntro `09_scores`."},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "x = 1\nlanguage = \"en\"", "outputs": []},
        {"cell_type": "code", "metadata": {}, "source": "report.save_table(t, \"09_scores\", d)\nreport.save_figure(f, f\"{chapter}_curve\", d)",
         "outputs": [{"output_type": "stream", "name": "stderr", "text": "reused run abc\n"},
                     {"output_type": "execute_result", "data": {"text/html": "<table/>", "text/plain": "t"}, "metadata": {}},
                     {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Figure>"}, "metadata": {}}]},
        {"cell_type": "markdown", "metadata": {}, "source": "## Findings"},
        {"cell_type": "code", "metadata": {}, "source": "display(Markdown(text))",
         "outputs": [{"output_type": "display_data", "data": {"text/markdown": "- The thing is **higher**.", "text/plain": "x"}, "metadata": {}},
                     {"output_type": "stream", "name": "stderr", "text": "UserWarning: something\n"}]},
    ]
    path = tmp_path / "09_thing.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    captions = {"figures": {"09_curve": {"en": "The curve of the thing.", "zh": "曲线。"}}, "tables": {"09_scores": {"zh": "得分。"}}}
    chapter = read_chapter(path, tmp_path / "figures", tmp_path / "tables", captions, "en")
    assert chapter.title == "A chapter" and chapter.number == 9 and chapter.language == "en"
    kinds = [type(b).__name__ for b in chapter.blocks]
    assert kinds == ["Prose", "Float", "Float", "Prose", "Prose"]
    table, figure = chapter.floats
    assert (table.kind, table.caption, len(table.tables)) == ("table", "Scores of the thing.", 2)
    assert (figure.kind, figure.caption) == ("figure", "The curve of the thing.")
    text = "\n".join(b.text for b in chapter.blocks if hasattr(b, "text"))
    assert "The thing is **higher**." in text and "reused" not in text and "UserWarning" not in text
    assert chapter.left_out == {"code cells": 3, "printed outputs": 2, "data frame views": 1}
    zh = read_chapter(path, tmp_path / "figures", tmp_path / "tables", captions, "zh")
    assert [f.caption for f in zh.floats] == ["得分。", "曲线。"]


def test_findings_printed_in_the_older_form_become_a_list(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# 2 · Split\n\n## Findings\n\nGenerated:"},
             {"cell_type": "code", "metadata": {}, "source": "print(s)",
              "outputs": [{"output_type": "stream", "name": "stdout", "text": "First finding.\nSecond finding.\n"}]}]
    path = tmp_path / "02_split.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    chapter = read_chapter(path, tmp_path, tmp_path, {}, "en")
    assert chapter.blocks[-1].text == "- First finding.\n- Second finding."


def test_a_figure_without_a_caption_is_an_error(tmp_path):
    _png(tmp_path / "03_grid.png")
    cells = [{"cell_type": "code", "metadata": {}, "source": 'save_figure(f, "03_grid", d)', "outputs": []}]
    path = tmp_path / "03_aug.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(BookError, match="03_grid: no caption in book/captions.yaml"):
        read_chapter(path, tmp_path, tmp_path, {}, "en")


def test_table_parts_read_back():
    caption, parts = read_markdown_table(REPO / "tables" / "06_seeds_summary.md")
    assert caption.endswith("and the validation score.") and "part" not in caption
    assert len(parts) == 3 and parts[0][0][0] == "Model" and all(len(rows) == 2 for _, rows, _ in parts)


def test_values_rows_picks_and_verdicts():
    table = pd.DataFrame({"comparison": ["a - none", "b - none"], "difference": [0.012, -0.004],
                          "ci_low": [0.002, -0.011], "ci_high": [0.021, 0.003]})
    spec = {"table": "t", "pick": {"max": "difference"}, "value": "difference", "low": "ci_low", "high": "ci_high",
            "signed": True, "label": "comparison"}
    best = table_value("best", spec, table)
    assert (str(best), best.label, best.verdict) == ("+0.012 [+0.002, +0.021]", "a - none", "above zero")
    worst = table_value("worst", spec | {"pick": {"min": "difference"}}, table)
    assert worst.verdict == "not distinguishable from zero"
    assert table_value("b", {"table": "t", "row": {"comparison": "b - none"}, "value": "difference"}, table).value == -0.004
    with pytest.raises(BookError, match="2 rows match"):
        table_value("x", {"table": "t", "value": "difference"}, table)
    assert Value("x", 0.5, 0.4, 0.6, language="zh").verdict == "显著大于零"


def test_a_paragraph_without_its_table_is_left_out(tmp_path):
    pd.DataFrame({"model": ["U-Net"], "tgs_score": [0.7712]}).to_csv(tmp_path / "06_comparison.csv", index=False)
    values = read_values({"unet": {"table": "06_comparison", "row": {"model": "U-Net"}, "value": "tgs_score"},
                          "seeds": {"table": "06_seeds_paired", "value": "seeds_paired"}}, tmp_path)
    assert set(values) == {"unet"}
    assert fill("U-Net: {unet}.", values) == "U-Net: 0.771."
    assert fill("Over {seeds} seeds.", values) is None


def test_references_and_headings_in_text():
    assert with_refs("The table shows it.", ["[Table 1.1](#t)"]) == "The table shows it ([Table 1.1](#t))."
    assert with_refs("Per run:", ["[Table 3.2](#t)"]) == "Per run ([Table 3.2](#t)):"
    assert with_refs("## Heading", ["[Figure 2.1](#f)"]) == "## Heading\n\n([Figure 2.1](#f))"
    counters: list[int] = []
    text = number_headings("## One\n\ntext\n\n### Sub\n\n```\n## not a heading\n```", 6, counters)
    assert "## 6.1 One" in text and "### 6.1.1 Sub" in text and "## not a heading" in text
    assert number_headings("## Two", 6, counters) == "## 6.2 Two"


def test_missing_chapters_say_what_to_run(tmp_path):
    with pytest.raises(BookError, match="no executed chapters.*make workbook"):
        build_book("quick", chapters_dir=tmp_path, say=lambda line: None)


def test_a_float_after_a_check_is_referred_to_by_the_text_after_it(tmp_path):
    """A paragraph that announces an output the book leaves out (a consistency check) does not
    introduce the next figure: the paragraph commenting on the figure refers to it instead."""
    from salt_lib.book.document import link_references, number_floats

    _png(tmp_path / "03_scores.png")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "Checks on the table:"},
             {"cell_type": "code", "metadata": {}, "source": "check(t)",
              "outputs": [{"output_type": "execute_result", "data": {"text/html": "<table/>"}, "metadata": {}}]},
             {"cell_type": "code", "metadata": {}, "source": 'save_figure(f, "03_scores", d)', "outputs": []},
             {"cell_type": "markdown", "metadata": {}, "source": "The bars are the means.\n\n## Next\n\nMore."}]
    path = tmp_path / "03_aug.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    chapter = read_chapter(path, tmp_path, tmp_path, {"figures": {"03_scores": {"en": "Scores per policy."}}}, "en")
    counts = link_references([chapter], number_floats([chapter]), "en")
    assert counts == {"fig-03_scores": 1}
    assert chapter.blocks[0].text == "Checks on the table."
    assert chapter.blocks[-1].text == "The bars are the means ([Figure 3.1](#fig-03_scores)).\n\n## Next\n\nMore."


def test_the_committed_book_is_the_committed_run_s(thesis):
    """book/thesis/thesis.pdf is what `make book` builds from the committed chapters (the build
    is deterministic: no date, no system fonts). After the chapters change: make book, commit."""
    committed = REPO / "book" / "thesis" / "thesis.pdf"
    assert committed.stat().st_size < 15e6
    assert thesis.outputs["pdf"].read_bytes() == committed.read_bytes(), "book/thesis/thesis.pdf is stale: run `make book` and commit it"


def test_the_chinese_book_is_the_committed_chinese_run_s(thesis_zh):
    """book/thesis/thesis-zh.pdf comes from the thesis run in Chinese (reports/thesis-zh with
    figures/zh and tables/zh): Chinese figure labels and table headers, not only captions."""
    assert {chapter.language for chapter in thesis_zh.chapters} == {"zh"}
    figures = [f for f in thesis_zh.floats.values() if f.kind == "figure"]
    assert figures and all(f.path.parent == REPO / "figures" / "zh" for f in figures)
    headers = [h for f in thesis_zh.floats.values() if f.kind == "table" for part in f.tables for h in part[0]]
    assert "模型" in headers and "Model" not in headers
    committed = REPO / "book" / "thesis" / "thesis-zh.pdf"
    assert committed.stat().st_size < 15e6
    assert thesis_zh.outputs["pdf"].read_bytes() == committed.read_bytes(), "thesis-zh.pdf is stale: run `make book LANGUAGE=zh`"
