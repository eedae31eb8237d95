"""Post a Markdown file as ONE note on the current GitLab merge request, updating it if it exists.

The note is found by the hidden marker the report starts with. Runs in a GitLab CI job of a merge
request pipeline (CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID are set by GitLab) with a
PLANNER_BOT_TOKEN variable (a project access token, `api` scope). Standard library only.

    python post_gitlab_note.py report.md
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request

MARKER = "<!-- planner-cost-report -->"


def _request(method: str, url: str, body: dict[str, str] | None = None) -> object:
    data = urllib.parse.urlencode(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("PRIVATE-TOKEN", os.environ["PLANNER_BOT_TOKEN"])
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    notes_url = (
        f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}"
        f"/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
    )
    page = 1
    while True:
        notes = _request("GET", f"{notes_url}?per_page=100&page={page}&sort=asc")
        assert isinstance(notes, list)
        for note in notes:
            if str(note.get("body", "")).startswith(MARKER):
                _request("PUT", f"{notes_url}/{note['id']}", {"body": text})
                return
        if len(notes) < 100:
            break
        page += 1
    _request("POST", notes_url, {"body": text})


if __name__ == "__main__":
    main(sys.argv[1])
