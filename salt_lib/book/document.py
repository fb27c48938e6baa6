"""The thesis as one Pandoc Markdown document: front matter, the chapters, conclusions, appendix.

Numbers are given here, once, for both outputs: chapter ``6``, section ``6.2``, figure and
table ``6.2`` (figures and tables counted apart, per chapter). A float is shown where its cell
saved it; the text refers to it as ``[Figure 6.2](#fig-06_coverage_bins)``, a link that Pandoc
writes as a Typst ``#link(<label>)`` (an unknown label fails the PDF build) and an HTML anchor.
References come from the prose: ``@fig:NAME`` / ``@tab:NAME``, or a table's or figure's name in
backticks (`` `06_paired_bootstrap` ``); a float the prose does not name is referred to at the
end of the paragraph that introduces it. Citations: "Ronneberger et al., 2015" in the prose
becomes a citation of ``references.bib`` by first author and year, and the first mention of a
term listed in ``cite_first`` (``book/thesis.yaml``) gets its citation.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from salt_lib.book.sources import BookError, Chapter, Float, Prose
from salt_lib.book.values import fill

# The book's fixed words, per language (the chapters' own prose stays as the chapters wrote it).
TEXTS = {
    "en": {"figure": "Figure", "table": "Table", "abstract": "Abstract", "contents": "Contents",
           "introduction": "Introduction", "conclusions": "Conclusions", "bibliography": "References",
           "appendix": "Appendix A · Reproducing this thesis", "keywords": "Keywords",
           "supervisor": "Supervisor", "prose_note": "", "prose_note_en": "",
           "commands": "Commands", "versions": "Library versions", "data": "Data and split",
           "runs": "Trained models: devices and training time", "book_tools": "This book was built with",
           "fingerprint": "data fingerprint", "split_hash": "split hash", "minutes": "min",
           "no_records": "No model records were found beside this profile's chapters.",
           "run_headers": ("Run", "Network", "Device (backend)", "Training")},
    "zh": {"figure": "图", "table": "表", "abstract": "摘要", "contents": "目录",
           "introduction": "引言", "conclusions": "结论", "bibliography": "参考文献",
           "appendix": "附录 A · 复现本论文", "keywords": "关键词", "supervisor": "指导教师",
           "prose_note": "说明：各章的正文由工作簿的笔记本生成，保留英文；由各章表格生成的结论句、图、表的标题与表头，以及本书的固定文字为中文。",
           "prose_note_en": "说明：各章的正文由工作簿的笔记本生成，保留英文；这些章节以英文运行，图中文字与表头也为英文；"
                            "图、表的标题以及本书的固定文字为中文。",
           "commands": "命令", "versions": "软件库版本", "data": "数据与划分",
           "runs": "训练的模型：设备与训练时间", "book_tools": "本书的构建工具",
           "fingerprint": "数据指纹", "split_hash": "划分哈希", "minutes": "分钟",
           "no_records": "未找到本配置各章所用模型的记录。",
           "run_headers": ("运行", "网络", "设备（后端）", "训练时间")},
}

AUTHOR_YEAR = re.compile(r"\(([A-Z][\w'-]+) et al\.,? (\d{4})\)|([A-Z][\w'-]+) et al\.,? \(?(\d{4})\)?")
EXPLICIT_REF = re.compile(r"\[?@(fig|tab):(\d\d_[a-z0-9_]+)\]?")
NAME_IN_CODE = re.compile(r"`(\d\d_[a-z0-9_]+)`")


def bib_keys(bib_text: str) -> dict[tuple[str, str], str]:
    """(first author's surname lower-cased, year) -> key, for every entry of a BibTeX file."""
    keys = {}
    for entry in re.split(r"\n(?=@)", "\n" + bib_text):
        head = re.match(r"\s*@\w+\{([^,\s]+),", entry)
        author = re.search(r"\bauthor\s*=\s*[{\"]+([^,{}\"]+?)(?:,| and |[}\"])", entry)
        year = re.search(r"\byear\s*=\s*[{\"]?(\d{4})", entry)
        if head and author and year:
            keys[(author.group(1).split()[-1].lower(), year.group(1))] = head.group(1)
    return keys


def number_floats(chapters: list[Chapter]) -> dict[str, Float]:
    """Number every float per chapter, figures and tables apart; return them by label."""
    by_label = {}
    for chapter in chapters:
        counts = {"figure": 0, "table": 0}
        for block in chapter.floats:
            counts[block.kind] += 1
            block.number = f"{chapter.number}.{counts[block.kind]}"
            by_label[block.label] = block
    return by_label


def ref(block: Float, language: str) -> str:
    return f"[{TEXTS[language][block.kind]} {block.number}](#{block.label})"


def link_references(chapters: list[Chapter], floats: dict[str, Float], language: str) -> dict[str, int]:
    """Write every reference of the prose as a link; add one for each float the prose does not
    name (to the paragraph before it). Return how many times each float is referred to."""
    counts = dict.fromkeys(floats, 0)
    names = {}
    for block in floats.values():  # a table wins over a figure of the same name: "generated from `06_x`"
        if block.kind == "table" or block.name not in names:
            names[block.name] = block

    def explicit(match):
        label = f"{match.group(1)}-{match.group(2)}"
        if label not in floats:
            raise BookError(f"the prose refers to @{match.group(1)}:{match.group(2)}, which no chapter saved. "
                            f"Saved: {', '.join(sorted(floats)) or 'nothing'}.")
        counts[label] += 1
        return ref(floats[label], language)

    def in_code(match):
        block = names.get(match.group(1))
        if block is None:
            return match.group(0)
        counts[block.label] += 1
        return ref(block, language)

    for chapter in chapters:
        for block in chapter.blocks:
            if isinstance(block, Prose):
                block.text = NAME_IN_CODE.sub(in_code, EXPLICIT_REF.sub(explicit, block.text))
    for chapter in chapters:
        blocks = chapter.blocks
        for position, block in enumerate(blocks):
            if isinstance(block, Prose) or counts[block.label]:
                continue
            # The paragraph that introduces the float, else the one that comments on it after.
            before = next((b for b in reversed(blocks[:position]) if isinstance(b, Prose)), None)
            after = next((b for b in blocks[position + 1:] if isinstance(b, Prose)), None)
            if before is not None and not before.spent:
                before.refs.append(ref(block, language))
            elif after is not None:
                after.lead_refs.append(ref(block, language))
            else:
                (before or _first_prose(chapter)).refs.append(ref(block, language))
            counts[block.label] += 1
        for block in blocks:
            if isinstance(block, Prose) and (block.refs or block.lead_refs):
                if block.lead_refs:
                    lead, _, rest = block.text.partition("\n\n")
                    block.text = with_refs(lead, block.lead_refs) + ("\n\n" + rest if rest else "")
                if block.refs:
                    block.text = with_refs(block.text, block.refs)
                block.refs, block.lead_refs = [], []
    return counts


def _first_prose(chapter: Chapter) -> Prose:
    prose = Prose("")
    chapter.blocks.insert(0, prose)
    return prose


def with_refs(text: str, refs: list[str]) -> str:
    """``text`` whose last sentence ends with ``(Figure 6.1, Table 6.2)``; a text that ends in a
    heading or a list gets them as a paragraph of their own."""
    joined = ", ".join(refs)
    stripped = text.rstrip()
    last = stripped.splitlines()[-1] if stripped else ""
    if not stripped or last.startswith(("#", "-", "*", "|", "```")) or re.match(r"\d+\.\s", last):
        return (stripped + "\n\n" if stripped else "") + f"({joined})"
    if stripped[-1] in ".:;":
        return f"{stripped[:-1]} ({joined}){stripped[-1]}"
    return f"{stripped} ({joined})"


def link_citations(chapters: list[Chapter], keys: dict, cite_first: dict) -> set[str]:
    """Turn "Author et al., YEAR" into citations and cite each ``cite_first`` term at its first
    mention; return the keys cited."""
    cited = set()

    def author_year(match):
        surname, year = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        key = keys.get((surname.lower(), year))
        if key is None:
            return match.group(0)
        cited.add(key)
        return f"[@{key}]" if match.group(1) else f"@{key}"

    pending = dict(cite_first or {})
    for chapter in chapters:
        for block in chapter.blocks:
            if not isinstance(block, Prose):
                continue
            block.text = AUTHOR_YEAR.sub(author_year, block.text)
            for term, key in list(pending.items()):
                position = _first_mention(block.text, term)
                if position is not None:
                    block.text = f"{block.text[:position]} [@{key}]{block.text[position:]}"
                    cited.add(key)
                    del pending[term]
    return cited


def _first_mention(text: str, term: str) -> int | None:
    """The end of ``term``'s first mention in running text (not a heading, code or a link)."""
    offset = 0
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            for match in re.finditer(rf"(?<![\w`]){re.escape(term)}(?![\w`])", line):
                if line[:match.start()].count("`") % 2 == 0 and line[:match.start()].count("[") == line[:match.start()].count("]"):
                    return offset + match.end()
        offset += len(line)
    return None


def number_headings(text: str, chapter: int, counters: list[int]) -> str:
    """Section headings of a chapter's prose with their numbers: ``## Findings`` -> ``## 6.5 Findings``."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"^(#{2,4})\s+(.*)$", line)
        if match:
            level = len(match.group(1)) - 1
            del counters[level:]
            counters.extend([0] * (level - len(counters)))
            counters[level - 1] += 1
            line = f"{match.group(1)} {'.'.join(map(str, [chapter] + counters))} {match.group(2)}"
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Floats as Typst and HTML
# --------------------------------------------------------------------------------------------

LONG_TABLE_ROWS = 24  # a table with more rows may break across pages; a shorter one stays with its caption
TYPST_SPECIAL = re.compile(r"([\\#*_\[\]$@<>~`/=+\-])")


def typst_text(text: str) -> str:
    """Plain text as Typst markup (every markup character escaped)."""
    return TYPST_SPECIAL.sub(r"\\\1", str(text))


def float_markdown(block: Float, media: str, language: str) -> str:
    """A float as two raw blocks, one for each output format."""
    title = f"{TEXTS[language][block.kind]} {block.number}."
    if block.kind == "figure":
        # A float: it goes to the top or bottom of a page where it fits, and the text flows on.
        typst = (f'#figure(image("{media}/{block.path.name}", width: {_width(block.path)}), numbering: none, kind: image, placement: auto,\n'
                 f"  caption: [*{typst_text(title)}* {typst_text(block.caption)}]) <{block.label}>")
        body = f'<img src="{media}/{block.path.name}" alt="{html.escape(block.caption)}">'
    else:
        typst = (f"#figure(numbering: none, kind: table, caption: figure.caption(position: top)[*{typst_text(title)}* "
                 f"{typst_text(block.caption)}],\n  stack(spacing: 1em, " + ", ".join(_typst_table(*part) for part in block.tables) +
                 f")) <{block.label}>")
        if sum(len(rows) for _, rows, _ in block.tables) > LONG_TABLE_ROWS:  # may continue on the next page
            typst = f"#[#show figure: set block(breakable: true)\n{typst}\n]"
        body = "\n".join(_html_table(*part) for part in block.tables)
    caption = f"<figcaption><strong>{html.escape(title)}</strong> {html.escape(block.caption)}</figcaption>"
    parts = [caption, body] if block.kind == "table" else [body, caption]
    html_block = f'<figure id="{block.label}" class="{block.kind}">\n' + "\n".join(parts) + "\n</figure>"
    return f"```{{=typst}}\n{typst}\n```\n\n```{{=html}}\n{html_block}\n```"


def _width(png: Path, dpi: int = 300, text_width_cm: float = 16.0) -> str:
    """The figure's own width (``save_figure`` writes 300 dpi), at most the text block: a
    half-width figure is not blown up, so its lettering stays the size of the others'."""
    from PIL import Image

    with Image.open(png) as image:
        centimetres = image.width / dpi * 2.54
    return "100%" if centimetres >= text_width_cm else f"{centimetres:.1f}cm"


def _typst_table(headers, rows, numeric) -> str:
    numeric = list(numeric) + [False] * (len(headers) - len(numeric))
    align = "(" + ", ".join("right" if n else "left" for n in numeric) + ",)"
    cells = ", ".join(f"[{_breakable(typst_text(cell))}]" for row in rows for cell in row)
    head = ", ".join(f"[*{typst_text(cell)}*]" for cell in headers)
    size = "7.5pt" if len(headers) >= 7 else "8.5pt"
    return (f"text(size: {size}, table(columns: {len(headers)}, align: {align}, stroke: none, inset: (x: 4pt, y: 2.5pt), "
            f"table.hline(), table.header({head}), table.hline(stroke: 0.5pt), {cells}, table.hline()))")


def _breakable(text: str) -> str:
    """A cell's text with a break opportunity after ``_``, ``/`` and ``,`` (code names,
    ``mixed_bfloat16``), so a narrow column wraps instead of overrunning its neighbour."""
    return re.sub(r"(\\_|\\/|,)(?=\S)", "\\1\u200b", text)


def _html_table(headers, rows, numeric) -> str:
    numeric = list(numeric) + [False] * (len(headers) - len(numeric))
    style = lambda n: ' class="num"' if n else ""  # noqa: E731
    head = "".join(f"<th{style(n)}>{html.escape(h)}</th>" for h, n in zip(headers, numeric))
    body = "".join("<tr>" + "".join(f"<td{style(n)}>{html.escape(c)}</td>" for c, n in zip(row, numeric)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------------------------
# The whole document
# --------------------------------------------------------------------------------------------


def paragraphs(texts, values: dict, where: str) -> list[str]:
    """The paragraphs of a book text (a list in ``book/thesis.yaml``) with their values filled;
    a paragraph naming a value that this run has no table for is left out."""
    kept = []
    for text in texts or []:
        try:
            filled = fill(str(text), values)
        except (AttributeError, KeyError, IndexError, ValueError) as error:
            raise BookError(f"book/thesis.yaml, {where}: cannot fill {str(text)[:60]!r}... ({error}).") from None
        if filled is not None:
            kept.append(filled.strip())
    return kept


def localized(entry, language: str):
    """A ``{en: ..., zh: ...}`` entry of ``book/thesis.yaml`` in ``language`` (English if missing)."""
    if isinstance(entry, dict) and ("en" in entry or "zh" in entry):
        return entry.get(language) or entry.get("en")
    return entry


def document(meta: dict, chapters: list[Chapter], values: dict, appendix: str, language: str, media: str = "media") -> str:
    """The whole thesis as Pandoc Markdown (the title page is the template's)."""
    words = TEXTS[language]
    field = lambda key: html.escape(str(localized(meta.get(key), language) or ""))  # noqa: E731
    front = [f'<p class="subtitle">{field("subtitle")}</p>'] if field("subtitle") else []
    front += [f"<p>{field(key)}</p>" for key in ("degree", "department", "institution") if field(key)]
    if field("supervisor"):
        front.append(f"<p>{html.escape(words['supervisor'])}: {field('supervisor')}</p>")
    out = ['```{=html}\n<div class="front">\n' + "\n".join(front) + "\n</div>\n```",  # the PDF's title page is the template's
           f"# {words['abstract']} {{#abstract .unnumbered}}", *paragraphs(localized(meta.get("abstract"), language), values, "abstract")]
    keywords = localized(meta.get("keywords"), language)
    if keywords:
        out.append(f"**{words['keywords']}:** " + ", ".join(keywords))
    note = words["prose_note"] if all(c.language == language for c in chapters) else words["prose_note_en"]
    if note:
        out.append(f"*{note}*")
    out.append(f'```{{=typst}}\n#contents-page("{words["contents"]}")\n```')
    introduction = paragraphs(localized(meta.get("introduction"), language), values, "introduction")
    if introduction:
        out += [f"# {words['introduction']} {{#introduction .unnumbered}}", *introduction]
    for chapter in chapters:
        out.append(f"# {chapter.number} {chapter.title} {{#ch-{chapter.number:02d}}}")
        counters: list[int] = []
        for block in chapter.blocks:
            if isinstance(block, Prose):
                out.append(number_headings(block.text, chapter.number, counters))
            else:
                out.append(float_markdown(block, media, language))
    number = (chapters[-1].number if chapters else 0) + 1
    out += [f"# {number} {words['conclusions']} {{#conclusions}}",
            *paragraphs(localized(meta.get("conclusions"), language), values, "conclusions")]
    out += [f'```{{=typst}}\n#references-page("{words["bibliography"]}")\n```',
            f'```{{=html}}\n<h1 id="references">{html.escape(words["bibliography"])}</h1>\n```',
            "::: {#refs}\n:::"]
    out += [f"# {words['appendix']} {{#appendix .unnumbered}}", appendix]
    return "\n\n".join(part for part in out if part.strip()) + "\n"


def typst_meta(meta: dict, language: str) -> str:
    """The title page's fields as Typst arguments (every one from ``book/thesis.yaml``)."""
    fields = {key: localized(meta.get(key), language) or "" for key in
              ("title", "subtitle", "author", "degree", "institution", "department", "supervisor", "date")}
    args = ", ".join(f"{key}: [{typst_text(value)}]" for key, value in fields.items())
    return f'{args}, supervisor-word: [{typst_text(TEXTS[language]["supervisor"])}], lang: "{language}"'

