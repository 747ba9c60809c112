"""Write the lists that name every chapter from book/chapters.yml: the table of contents and the README's table.

Usage:  python tools/sync_chapter_lists.py [--check]

book/chapters.yml is the one place a chapter is declared. The "Chapters" part of _toc.yml and the table at the top
of README.md (title, notebook, "Open in Colab" link) are written from it; tools/execute_notebooks.py runs this tool
before executing anything. With --check nothing is written and the exit status says whether both lists are current
(the tests run the same comparison). What is written about a chapter rather than listed (its section of the
instructors' page, its wrong-answer probes in tests/wrong_answers.py) stays hand-written; the tests name it when
it is missing.
"""

import re

from notebooks import ROOT, chapter_facts, repository, sync_command_line

TOC = ROOT / "_toc.yml"
README = ROOT / "README.md"
TOC_CHAPTERS = re.compile(
    r"(?P<head>  - caption: Chapters\n    chapters:\n)(?P<entries>(?:      - file: .*\n)*)"
)
README_TABLE = re.compile(
    r"(?P<head>\| Chapter \| Notebook \| Colab \|\n\|---\|---\|---\|\n)(?P<rows>(?:\|.*\|\n)*)"
)


def toc_entries(facts):
    return "".join(f"      - file: book/{name}\n" for name in facts)


def readme_rows(facts):
    owner, repo, branch = repository()
    colab = (
        f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}"
    )
    return "".join(
        f"| {number}. {chapter['title']} | [book/{name}.ipynb](book/{name}.ipynb) "
        f"| [Open in Colab]({colab}/book/{name}.ipynb) |\n"
        for number, (name, chapter) in enumerate(facts.items(), start=1)
    )


def synced(text, pattern, part, body, path):
    """`text` with the part `pattern` finds replaced by `body`."""
    match = pattern.search(text)
    if match is None:
        raise SystemExit(
            f"{path.name}: cannot find {pattern.pattern.splitlines()[0]!r}; "
            "restore the list's heading, this tool rewrites only what follows it"
        )
    return text[: match.start(part)] + body + text[match.end(part) :]


def main(check=False):
    facts = chapter_facts()
    out_of_date = []
    for path, pattern, part, body in (
        (TOC, TOC_CHAPTERS, "entries", toc_entries(facts)),
        (README, README_TABLE, "rows", readme_rows(facts)),
    ):
        text = path.read_text()
        new = synced(text, pattern, part, body, path)
        if new != text:
            out_of_date.append(path)
            if not check:
                path.write_text(new)
                print(
                    f"{path.name}: chapter list written from book/chapters.yml"
                )
    return out_of_date


if __name__ == "__main__":
    sync_command_line(
        main, "chapter lists", "python tools/sync_chapter_lists.py"
    )
