"""nbgrader's exchange, for a course that may have none: many courses hand the notebooks out
through the student edition and take them in from the LMS (`tito nbgrader collect`).

nbgrader's own listing fails when the exchange folder (`c.Exchange.root`) does not exist:
formgrader logs "Unwritable directory, please contact your instructor" as critical on every
page and shows a banner saying that release and collect are unavailable. Configured in
nbgrader_config.py (`c.ExchangeFactory.list`).
"""

from __future__ import annotations

import os

from nbgrader.exchange.default.list import ExchangeList


class CourseExchangeList(ExchangeList):
    """nbgrader's ExchangeList; while the exchange folder does not exist, nothing has been
    released or submitted through it: an empty list, not an error. Releasing an assignment
    creates the folder, as with nbgrader's own classes; an existing exchange is listed as
    nbgrader lists it (a folder that exists but cannot be written is still an error)."""

    def ensure_root(self) -> None:
        if os.path.exists(self.root):
            super().ensure_root()
