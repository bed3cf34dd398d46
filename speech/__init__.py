"""Speech-to-text: Vosk in worker processes; a waiting caller's words as spoken, a call's words after it."""
