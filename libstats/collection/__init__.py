"""A year's collection: the register of every file received (`register`, SQLite), the collection folder and
its operations (`collect`: uploads, reviews, approvals, consolidation) and its web pages (`web`)."""
