"""WHIP (RFC 9725) ingest and WHEP (draft-ietf-wish-whep) playback over plain HTTP."""
