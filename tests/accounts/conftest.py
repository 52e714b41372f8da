"""Helpers that play the browser between the portal (test client) and the local FranceConnect (HTTP)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.security import limiter


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Browser:
    """The portal through Flask's test client, FranceConnect through a requests session."""

    portal: object
    fc: requests.Session
    fc_origin: str

    def start_franceconnect(self, next_url: str | None = None) -> str:
        """Click the FranceConnect button; returns the authorize URL the portal sends to."""
        page = self.portal.get("/connexion" + (f"?next={next_url}" if next_url else ""))
        data = {"csrf_token": csrf_token(page.get_data(as_text=True))}
        if next_url:
            data["next"] = next_url
        response = self.portal.post("/connexion/franceconnect", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response.headers["Location"]

    def pick_identity(self, authorize_url: str, login: str = "test") -> str:
        """On FranceConnect: follow to the identity page, pick one; returns the callback URL."""
        response = self.fc.get(authorize_url, allow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        location = response.headers["Location"]
        if "/interaction/" not in location:
            return location  # SSO: FranceConnect answered at once
        page = self.fc.get(self.fc_origin + location)
        assert "Choisir une identité de test" in page.text
        chosen = self.fc.post(self.fc_origin + location + "/login", data={"login": login},
                              allow_redirects=False)
        assert chosen.status_code == 303
        return chosen.headers["Location"]

    def come_back(self, callback_url: str):
        return self.portal.get(path_of(callback_url))

    def sign_in(self, login: str = "test", next_url: str | None = None):
        return self.come_back(self.pick_identity(self.start_franceconnect(next_url), login))


@pytest.fixture
def browser(app, local_fc):
    parts = urlsplit(local_fc.issuer)
    local_fc.provider.faults.clear()
    limiter.reset()
    yield Browser(app.test_client(), requests.Session(), f"{parts.scheme}://{parts.netloc}")
    local_fc.provider.faults.clear()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
