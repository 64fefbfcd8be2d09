import pytest

from tests.listings.conftest import KINDS


@pytest.mark.parametrize("path", KINDS)
async def test_create_publish_read(client, owner, make_listing, path):
    who = await owner(path)
    listing = await make_listing(path, who)
    assert listing["status"] == "published"
    response = await client.get(f"/api/v1/{path}/{listing['id']}")
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    listed = await client.get(f"/api/v1/{path}")
    assert listed.json()["total"] == 1
