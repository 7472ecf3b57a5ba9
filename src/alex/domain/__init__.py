"""The domain core: documents, chunks, ids, validation, fusion and errors. No I/O here."""
