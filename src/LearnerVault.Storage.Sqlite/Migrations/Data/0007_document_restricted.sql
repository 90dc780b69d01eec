-- Whether a State or Agent Profile document holds data written under restriction of processing, so that reads can
-- withhold it as they withhold statements stored restricted. 1 once any write of the document was restricted; a later
-- unrestricted write leaves it set (the restricted data may live on in the content), only deleting the row clears it.
-- Adding the column rewrites no row.
ALTER TABLE documents ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
