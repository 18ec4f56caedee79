"""Drive a sandbox hosted payment page over real HTTP, as a customer's browser would."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (a.get("method") or "get").lower(),
                    "action": a.get("action") or "",
                    "fields": {},
                    "buttons": [],
                }
            )
        elif self.forms and tag == "input" and a.get("name") and a.get("type") != "submit":
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif self.forms and tag in ("button", "input") and a.get("name") == "outcome":
            self.forms[-1]["buttons"].append(a.get("value"))


LANGUAGE_SWITCH_ACTION = "/i18n/setlang/"


def parse_forms(html: str) -> list[dict]:
    """The page's forms, less the language switch every page carries in its header."""
    parser = _FormParser()
    parser.feed(html)
    return [form for form in parser.forms if form["action"] != LANGUAGE_SWITCH_ACTION]


def pay_on_hosted_page(
    redirect_url: str,
    outcome: str = "succeed",
    otp: str | None = None,
    max_steps: int = 4,
    *,
    return_to_merchant: bool = True,
    visited: list[str] | None = None,
) -> httpx.Response:
    """Submit `outcome` on every hosted step (payment page, 3DS) until the browser is sent back.

    Returns the final response: the product's return page, or with `return_to_merchant=False`
    the provider's redirect back to it, not followed (a customer who closed the tab).
    `visited`, when given, collects the URL of every page shown (to prove e.g. a 3DS step)."""
    with httpx.Client(
        timeout=30, event_hooks={"response": [_recorder(visited)] if visited is not None else []}
    ) as client:
        response = _follow(client, client.get(redirect_url), return_to_merchant)
        for _ in range(max_steps):
            forms = parse_forms(response.text)
            if response.is_redirect or len(forms) != 1 or outcome not in forms[0]["buttons"]:
                return response
            form = forms[0]
            assert form["method"] == "post"
            data = dict(form["fields"])
            if "otp" in data:
                data["otp"] = otp or "123456"
            data["outcome"] = outcome
            posted = client.post(urljoin(str(response.url), form["action"]), data=data)
            response = _follow(client, posted, return_to_merchant)
        raise AssertionError("hosted page never finished")


def _recorder(visited: list[str]):  # type: ignore[no-untyped-def]
    def record(response: httpx.Response) -> None:
        visited.append(str(response.url))

    return record


def _follow(client: httpx.Client, response: httpx.Response, to_merchant: bool) -> httpx.Response:
    for _ in range(10):
        if not response.is_redirect:
            return response
        target = urljoin(str(response.url), response.headers["location"])
        if not to_merchant and "/sandbox/" not in target:
            return response
        response = client.get(target)
    raise AssertionError("too many redirects")
