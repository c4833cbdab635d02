"""Each user's time zone is chosen on the profile page, with the language, in one form."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_profile_saves_language_and_time_zone_together(client, sales1):
    client.force_login(sales1)
    page = client.get("/profile/").content.decode()
    assert page.count('type="submit">Save</button>') == 1  # one form, one Save (e2e finds it)
    assert '<option value="America/New_York"' in page
    response = client.post("/profile/", {"action": "language", "language": "de",
                                         "time_zone": "America/New_York"})  # fmt: skip
    assert response.status_code == 302
    sales1.refresh_from_db()
    assert (sales1.language, sales1.time_zone) == ("de", "America/New_York")
    client.post("/profile/", {"action": "language", "language": "de", "time_zone": "Mars/Base"})
    sales1.refresh_from_db()
    assert sales1.time_zone == "America/New_York"
