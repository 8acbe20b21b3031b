"""A test report as JUnit XML, the format CI systems read (GitHub, GitLab, Jenkins).

One `<testsuite>` per report, one `<testcase>` per run: a run that did not pass has a `<failure>` (its
status `failed`, or a timeout) or an `<error>` (status `error`: the run itself broke), whose message
names the criteria not met; every criterion's verdict and the run's logs go into the element's text.
Written with the standard library's ElementTree.

Every string in the file is cleaned first (`_clean`), because most of it is text from the API (logs,
names, criteria): secrets are masked as on stdout and stderr (scrub.py), and the characters XML 1.0
does not allow are shown as visible escapes, so a CI reporter can still parse the file.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from reconciler import scrub
from reconciler.testruns.runner import Report, RunResult

# What XML 1.0 allows (https://www.w3.org/TR/xml/#charsets); anything else, even written as a
# character reference (`&#1;`), makes the file not well-formed. Lone surrogates (JSON lets an API send
# one) and U+FFFE/U+FFFF are outside it too.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _clean(text: str) -> str:
    """`text` as the file may hold it: every secret masked, as printed output masks it (`scrub_echo`:
    the text comes from the API, which may echo a value shortened), then every character XML 1.0
    forbids written as its Python escape (`\\x01`), visible rather than lost. Secrets first, so that
    one holding such a character is still matched whole."""
    return _NOT_XML.sub(_escaped, scrub.scrub_echo(text))


def _cleaned(root: ET.Element[str]) -> None:
    """Clean every text, tail and attribute value of the tree: no field can be forgotten."""
    for node in root.iter():
        if node.text:
            node.text = _clean(node.text)
        if node.tail:
            node.tail = _clean(node.tail)
        for name, value in node.attrib.items():
            node.attrib[name] = _clean(value)


def _case(parent: ET.Element, classname: str, result: RunResult) -> None:
    case = ET.SubElement(parent, "testcase", classname=classname, name=result.name,
                         time=f"{result.duration:.3f}")
    details = [f"{c.name}: {c.status}" for c in result.criteria] + [f"run {result.run_id} of test {result.test_id}"]
    if result.logs:
        details += ["", result.logs]
    if not result.passed:
        tag = "error" if result.status == "error" and not result.timed_out else "failure"
        kind = "timeout" if result.timed_out else result.status
        node = ET.SubElement(case, tag, message=result.verdict(), type=kind)
        node.text = "\n".join(details) or None
    else:
        ET.SubElement(case, "system-out").text = "\n".join(details)


def document(report: Report) -> ET.ElementTree[ET.Element[str]]:
    """The report as an ElementTree: `<testsuites>` holding one `<testsuite>`, every string cleaned."""
    errors = sum(1 for r in report.results if not r.passed and r.status == "error" and not r.timed_out)
    failures = sum(1 for r in report.results if not r.passed) - errors
    attrs = {"tests": str(len(report.results)), "failures": str(failures), "errors": str(errors),
             "skipped": "0", "time": f"{report.duration:.3f}"}
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", {"name": f"{report.label} ({report.target})", **attrs})
    for result in report.results:
        _case(suite, report.label, result)
    _cleaned(root)
    ET.indent(root)
    return ET.ElementTree(root)


def write(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the report to `path` (UTF-8, with an XML declaration)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document(report).write(target, encoding="utf-8", xml_declaration=True)
