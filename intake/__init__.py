"""Every way a citizen's message becomes a ticket: mail (SMTP and IMAP), the SMS and WeChat gateways,
voicemail. Above the ticket desk, which it hands each message to."""
