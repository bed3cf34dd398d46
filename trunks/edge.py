"""The SIP edge as the composition root wires it: the password-guessing guard with its ACL bans, and the
bound on Asterisk's own log, which a guesser's rejected packets would otherwise grow without end."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.logfiles import CHECK_SECONDS, LogBound
from hotline.kernel.runtime.config import Settings
from hotline.kernel.runtime.events import Publish
from hotline.kernel.runtime.rounds import every
from hotline.trunks.acl import AclBans, RenderBans
from hotline.trunks.guard import SipGuard, ban_policy, trusted_networks
from hotline.trunks.guessing import FAILED_ATTEMPTS, SUCCESSFUL_AUTH


class SipEdge:
    def __init__(
        self,
        settings: Settings,
        trunk_hosts: Iterable[str],
        render_bans: RenderBans,
        ami: AmiClient,
        publish: Publish,
        clock: Callable[[], float],
    ) -> None:
        etc_dir = settings.host_path(f"{settings.asterisk_instance_dir}/etc")
        self.guard = SipGuard(
            ban_policy(settings),
            trunk_hosts,
            trusted_networks(settings),
            AclBans(render_bans, etc_dir, ami),
            publish,
            clock,
        )
        log_dir = settings.host_path(f"{settings.asterisk_instance_dir}/log")
        self.log_bound = LogBound(log_dir, ami, settings.asterisk_log_max_mb * 2**20)
        # Asterisk's security events in; bans written while AMI was away reloaded when it is back.
        for name in (*FAILED_ATTEMPTS, SUCCESSFUL_AUTH):
            ami.subscribe(name, self.guard.hear)
        ami.on_connect(self.guard.bans.catch_up)

    async def bound_log(self) -> None:
        """Asterisk's log kept under its bound, checked every few seconds until cancelled."""
        await every(CHECK_SECONDS, self.log_bound.check, "log bound")
