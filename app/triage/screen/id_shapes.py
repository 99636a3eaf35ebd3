"""The shape of the identifiers developers paste, written once.

Grid names objects `Type:<uuid>` ("Customer:019f…", "Token:019f…"); other APIs paste bare
uuids.  Readers build their own patterns around these fragments (a typed id's type, its
word boundaries), so the uuid itself is spelled in one place.
"""

from __future__ import annotations

# A lower-case hex uuid (8-4-4-4-12), no anchors: callers add the boundaries they need.
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
