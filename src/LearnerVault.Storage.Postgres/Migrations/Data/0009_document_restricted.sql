-- Whether a State or Agent Profile document holds data written under restriction of processing, so that reads can
-- withhold it as they withhold statements stored restricted. Set once any write of the document was restricted; a later
-- unrestricted write leaves it set (the restricted data may live on in the content), only deleting the row clears it.
-- A constant default is a catalogue change only: no row is rewritten, however large the table.
ALTER TABLE documents ADD COLUMN restricted boolean NOT NULL DEFAULT false;
