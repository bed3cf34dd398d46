"""Call recordings: where files go, how loud they are, and (later) their transcripts."""
