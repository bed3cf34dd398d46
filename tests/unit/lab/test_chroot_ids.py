"""The chroot's asterisk user never shares a uid or gid with a host account."""

import os

from hotline.lab.chroot import give_own_ids


def make_etc(folder, passwd: str, group: str):
    (folder / "etc").mkdir(parents=True)
    (folder / "etc/passwd").write_text(passwd)
    (folder / "etc/group").write_text(group)


def test_asterisk_moves_off_a_uid_the_host_gives_to_postgres(tmp_path):
    host, root = tmp_path / "host", tmp_path / "root"
    make_etc(
        host, "root:x:0:0::/root:/bin/sh\npostgres:x:101:104::/var/lib/postgresql:/bin/bash\n", "root:x:0:\n"
    )
    make_etc(
        root,
        "root:x:0:0::/root:/bin/sh\nasterisk:x:101:101:Asterisk:/var/lib/asterisk:/usr/sbin/nologin\n",
        "root:x:0:\naudio:x:29:asterisk\nasterisk:x:101:\n",
    )
    spool = root / "var/spool/asterisk"
    spool.mkdir(parents=True)
    os.chown(spool, 101, 101)
    os.chown(root / "etc/passwd", 0, 0)

    give_own_ids(root, "asterisk", host / "etc", log=lambda line: None)

    entry = next(
        line for line in (root / "etc/passwd").read_text().splitlines() if line.startswith("asterisk:")
    )
    uid, gid = int(entry.split(":")[2]), int(entry.split(":")[3])
    assert uid == gid and uid not in (0, 101, 104)
    assert f"asterisk:x:{gid}:" in (root / "etc/group").read_text()
    assert "audio:x:29:asterisk" in (root / "etc/group").read_text()
    assert (spool.stat().st_uid, spool.stat().st_gid) == (uid, gid)
    assert (root / "etc/passwd").stat().st_uid == 0


def test_ids_the_host_does_not_use_are_left_alone(tmp_path):
    host, root = tmp_path / "host", tmp_path / "root"
    make_etc(host, "root:x:0:0::/root:/bin/sh\n", "root:x:0:\n")
    passwd = "asterisk:x:101:101::/var/lib/asterisk:/usr/sbin/nologin\n"
    make_etc(root, passwd, "asterisk:x:101:\n")
    give_own_ids(root, "asterisk", host / "etc", log=lambda line: None)
    assert (root / "etc/passwd").read_text() == passwd
