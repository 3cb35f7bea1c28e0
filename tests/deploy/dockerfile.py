"""The Dockerfile read as instructions, so tests can check it against the project without
a Docker engine (there is none on these machines)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest, continuation lines joined
    line: int  # where it starts in the Dockerfile

    def exec_form(self) -> list[str]:
        """``["a", "b"]`` (JSON) as a list; the shell form split as a shell would."""
        text = self.args.strip()
        if text.startswith("["):
            parsed: list[str] = json.loads(text)
            return parsed
        return shlex.split(text)


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, args = " ".join(pending).partition(" ")
        found.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def stages(path: Path = DOCKERFILE) -> list[list[Instruction]]:
    """The build stages, each from its FROM to the next."""
    result: list[list[Instruction]] = []
    for instruction in instructions(path):
        if instruction.keyword == "FROM":
            result.append([])
        assert result, f"line {instruction.line}: {instruction.keyword} before any FROM"
        result[-1].append(instruction)
    return result


def env(stage: list[Instruction]) -> dict[str, str]:
    """The ``ENV`` values a stage sets (``KEY=VALUE`` pairs; ``$PATH`` left as written)."""
    values: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def one(stage: list[Instruction], keyword: str) -> Instruction:
    matching = [i for i in stage if i.keyword == keyword]
    assert len(matching) == 1, f"want one {keyword} in the stage, found {len(matching)}"
    return matching[0]


def healthcheck_command(stage: list[Instruction]) -> list[str]:
    """The ``HEALTHCHECK``'s ``CMD`` in exec form."""
    text = one(stage, "HEALTHCHECK").args
    _, _, command = text.partition(" CMD ")
    assert command.strip().startswith("["), "HEALTHCHECK CMD in exec form, no shell needed"
    parsed: list[str] = json.loads(command)
    return parsed
