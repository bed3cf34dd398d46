"""Hand-made SIP over UDP, as an attacker's script sends it: one request, its responses, a digest answer.

The lab's tests probe the system's SIP edge with it from chosen source addresses and ports (any address
in 127.0.0.0/8 is this host), which no softphone would let a test pick.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass, field

CHALLENGE_FIELD = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), [""])[0]

    def challenge(self) -> dict[str, str]:
        """The digest challenge's fields (realm, nonce, opaque, qop, algorithm)."""
        raw = self.header("www-authenticate") or self.header("proxy-authenticate")
        return {key: quoted or bare for key, quoted, bare in CHALLENGE_FIELD.findall(raw)}


def parse_response(data: bytes) -> Response:
    head = data.decode("utf-8", errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
    response = Response(int(head[0].split()[1]))
    for line in head[1:]:
        name, _, value = line.partition(":")
        response.headers.setdefault(name.strip().lower(), []).append(value.strip())
    return response


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)


class SipProbe:
    """A UDP socket on ``source`` that talks to the system's SIP port."""

    def __init__(self, source: tuple[str, int], target: tuple[str, int]) -> None:
        self.source, self.target = source, target
        self._transport: asyncio.DatagramTransport | None = None
        self._inbox = _Inbox()

    async def __aenter__(self) -> SipProbe:
        self._transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: self._inbox, local_addr=self.source
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._transport is not None
        self._transport.close()

    @property
    def host(self) -> str:
        return f"{self.target[0]}:{self.target[1]}"

    def send(self, text: str) -> None:
        assert self._transport is not None
        self._transport.sendto(text.encode(), self.target)

    async def final(self, timeout: float = 5) -> Response | None:
        """The next final response (provisional ones skipped), or None when nothing final comes."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    response = parse_response(await self._inbox.queue.get())
                    if response.status >= 200:
                        return response
        except TimeoutError:
            return None

    def request(
        self,
        method: str,
        user: str,
        *,
        uri: str | None = None,
        from_user: str | None = None,
        headers: tuple[str, ...] = (),
        body: str = "",
        call_id: str | None = None,
        cseq: int = 1,
        branch: str | None = None,
        to_tag: str = "",
        from_tag: str | None = None,
        contact: bool = True,
    ) -> tuple[str, str, str]:
        """Send one request; returns its Call-ID, branch and From tag (to answer a challenge or ACK)."""
        call_id = call_id or f"{secrets.token_hex(8)}@probe"
        branch = branch or f"z9hG4bK{secrets.token_hex(8)}"
        tag = from_tag or secrets.token_hex(4)
        uri = uri or f"sip:{user}@{self.host}"
        source = f"{self.source[0]}:{self.source[1]}"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {source};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{from_user or user}@{self.target[0]}>;tag={tag}",
            f"To: <sip:{user}@{self.target[0]}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            *([f"Contact: <sip:{from_user or user}@{source}>"] if contact else []),
            *headers,
            f"Content-Length: {len(body.encode())}",
        ]
        if body:
            lines.insert(-1, "Content-Type: application/sdp")
        self.send("\r\n".join(lines) + "\r\n\r\n" + body)
        return call_id, branch, tag

    async def register(self, user: str, password: str | None = None, *, bind: bool = True) -> Response | None:
        """REGISTER as ``user``; answer the challenge with ``password`` when given (a guess or the right
        one). ``bind=False`` only asks for the bindings (no Contact), so the phone's own contact stays."""
        uri = f"sip:{self.host}"
        call_id, _, _ = self.request("REGISTER", user, uri=uri, contact=bind)
        challenged = await self.final()
        if password is None or challenged is None or challenged.status not in (401, 407):
            return challenged
        answer = digest_answer(challenged.challenge(), user, password, "REGISTER", uri)
        self.request(
            "REGISTER",
            user,
            uri=uri,
            contact=bind,
            call_id=call_id,
            cseq=2,
            headers=(f"Authorization: {answer}",),
        )
        return await self.final()

    async def invite(self, number: str, *, from_user: str, headers: tuple[str, ...] = ()) -> Response | None:
        """INVITE ``number`` with an offer of G.711 audio; the final response is acknowledged (and a call
        that was answered is hung up again at once)."""
        uri = f"sip:{number}@{self.host}"
        call_id, branch, tag = self.request(
            "INVITE", number, uri=uri, from_user=from_user, headers=headers, body=audio_offer(self.source[0])
        )
        final = await self.final(timeout=10)
        if final is None:
            return None
        to_tag = final.header("to").partition(";tag=")[2]
        answered = final.status < 300
        ack = {
            "from_user": from_user,
            "call_id": call_id,
            "from_tag": tag,
            "to_tag": to_tag,
            "contact": False,
        }
        # A failure's ACK belongs to the INVITE's transaction (same branch); a 2xx's is a new one.
        self.request("ACK", number, uri=uri, branch=None if answered else branch, **ack)
        if answered:
            self.request("BYE", number, uri=uri, cseq=2, **ack)
        return final


def audio_offer(host: str) -> str:
    """SDP offering A-law, µ-law and RFC 4733 keys on a port nothing listens on."""
    return "\r\n".join(
        (
            "v=0",
            f"o=- 1 1 IN IP4 {host}",
            "s=-",
            f"c=IN IP4 {host}",
            "t=0 0",
            "m=audio 26190 RTP/AVP 8 0 101",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=sendrecv",
            "",
        )
    )


def digest_answer(challenge: dict[str, str], user: str, password: str, method: str, uri: str) -> str:
    """RFC 2617's answer to a digest challenge (MD5, with qop=auth when offered)."""

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    ha1 = md5(f"{user}:{challenge['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    fields = {
        "username": user,
        "realm": challenge["realm"],
        "nonce": challenge["nonce"],
        "uri": uri,
        "algorithm": "MD5",
    }
    if "auth" in challenge.get("qop", "").split(","):
        cnonce, count = secrets.token_hex(8), "00000001"
        fields["response"] = md5(f"{ha1}:{challenge['nonce']}:{count}:{cnonce}:auth:{ha2}")
        fields |= {"cnonce": cnonce, "nc": count, "qop": "auth"}
    else:
        fields["response"] = md5(f"{ha1}:{challenge['nonce']}:{ha2}")
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    unquoted = {"algorithm", "nc", "qop"}
    return "Digest " + ", ".join(
        f"{key}={value}" if key in unquoted else f'{key}="{value}"' for key, value in fields.items()
    )
