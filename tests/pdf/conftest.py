"""Fixtures for the minutes PDF and signature tests: one demo PKI, one stamp-font cache and one
NSS database (for poppler's pdfsig) per session; the rendered and signed sample documents."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from pdf_samples import ha_lang_minutes

from inspection.pdf import LEADER_FIELD, render_minutes, unit_field
from inspection.services.demo_pki import ensure_demo_pki
from inspection.services.signing import sign_pdf


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return ensure_demo_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("font-cache")


@pytest.fixture(scope="session")
def leader_key(pki):
    return pki.signer("leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ",
                      "Sở Nội vụ tỉnh Cao Bằng")


@pytest.fixture(scope="session")
def unitrep_key(pki):
    return pki.signer("unitrep", "Nông Văn Én", "Chủ tịch UBND xã Cô Ngân", "UBND xã Cô Ngân")


@pytest.fixture(scope="session")
def sign(pki, font_cache):
    """sign(pdf, key, field, role) with the demo timestamper and the session's font cache."""

    def signer(pdf: bytes, key, field: str, role: str) -> bytes:
        return sign_pdf(pdf, key, role, field, "Hạ Lang, Cao Bằng", "Ký biên bản kiểm tra",
                        timestamper=pki.timestamper(), font_cache_dir=font_cache)

    return signer


@pytest.fixture(scope="session")
def minutes_pdf() -> bytes:
    """The unsigned Hạ Lang minutes (with photos)."""
    return render_minutes(ha_lang_minutes())


@pytest.fixture(scope="session")
def signed_once(minutes_pdf, sign, leader_key) -> bytes:
    return sign(minutes_pdf, leader_key, LEADER_FIELD, "Trưởng đoàn kiểm tra")


@pytest.fixture(scope="session")
def signed_twice(signed_once, sign, unitrep_key) -> bytes:
    return sign(signed_once, unitrep_key, unit_field(1), "Đại diện đơn vị được kiểm tra")


@pytest.fixture(scope="session")
def nssdb(pki, tmp_path_factory):
    """An NSS database trusting the demo CA, for `pdfsig -nssdir sql:DIR`."""
    if not (shutil.which("certutil") and shutil.which("pdfsig")):
        pytest.skip("poppler-utils and libnss3-tools are needed (apt-get install)")
    folder = tmp_path_factory.mktemp("nssdb")
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True,
                   capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "cchc-demo-ca", "-t", "CT,C,C",
                    "-i", str(pki.ca_cert_path)], check=True, capture_output=True)
    return folder


@pytest.fixture(scope="session")
def pdfsig(nssdb, tmp_path_factory):
    """pdfsig(pdf_bytes) -> its output (pdfsig exits 0 even when a signature is broken)."""
    folder = tmp_path_factory.mktemp("pdfsig")

    def run(pdf: bytes) -> str:
        path = folder / "check.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(["pdfsig", "-nssdir", f"sql:{nssdb}", str(path)],
                                capture_output=True)
        return result.stdout.decode("utf-8", "replace") + result.stderr.decode("utf-8", "replace")

    return run
