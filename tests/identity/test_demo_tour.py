"""``make run`` shows the seed's IAM tour: root MFA, user, group, role, simulator, a denied
and an allowed call."""

from __future__ import annotations

from objstore.cli import iam_tour


def test_tour_prints_each_step() -> None:
    lines: list[str] = []
    iam_tour.run(out=lines.append)
    text = "\n".join(lines)
    assert "root MFA enabled: arn:aws:iam::" in text
    assert "without an MFA code: refused" in text
    assert "user yash (AIDA" in text and "group HR" in text
    assert "ec2.amazonaws.com" in text and "AmazonS3FullAccess" in text
    assert "s3:GetObject   allowed" in text and "s3:PutObject   implicitDeny" in text
    assert "GetObject handbook.txt: allowed" in text
    assert "PutObject handbook.txt: AccessDenied" in text
