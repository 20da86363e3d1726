#!/usr/bin/env python3
"""Benchmark: the minutes PDF built and signed twice, against LibreOffice converting a DOCX.

    .venv/bin/python scripts/bench_minutes.py [--runs 3] [--workdir DIR] [--no-libreoffice]

The document: 105 criteria in 8 sections, 20 counts, 8 derived rates, 10 recommendations and
40 photos (1600×1200 JPEGs of about 250 KB, made with Pillow). Ours: reportlab renders it and
pyHanko signs it twice (leader, then unit representative, B-T with the demo timestamper).
LibreOffice: `soffice --headless --convert-to pdf` of a DOCX with the same text, tables and
photos (written with a minimal zip writer; python-docx is not needed).

Every measured run is a fresh process, started from a small wrapper that reports its wall
time and its children's peak resident memory (`getrusage(RUSAGE_CHILDREN).ru_maxrss`); ours
also reports the in-process time of build + two signatures (the target: under 1 s and under
150 MB peak). Photos, the demo PKI, the stamp font and the LibreOffice profile are prepared
before the measured runs; the first LibreOffice start (profile creation) is shown apart.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_CRITERIA, N_COUNTS, N_RATES, N_RECS, N_PHOTOS = 105, 20, 8, 10, 40
SECTION_SIZES = [12, 6, 36, 8, 12, 10, 16, 5]  # criteria per section: 105
SECTION_TITLES = [
    ("CDDH", "Công tác chỉ đạo, điều hành cải cách hành chính"),
    ("TC", "Cải cách thể chế"),
    ("TTHC", "Cải cách thủ tục hành chính (gồm cơ chế một cửa, một cửa liên thông)"),
    ("TCBM", "Cải cách tổ chức bộ máy hành chính"),
    ("CV", "Cải cách chế độ công vụ"),
    ("TCC", "Cải cách tài chính công"),
    ("CQS", "Xây dựng và phát triển chính quyền điện tử, chính quyền số"),
    ("TD", "Tác động của cải cách hành chính; sự hài lòng của người dân, tổ chức"),
]
VN = timezone(timedelta(hours=7))
WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'wall': wall, 'rc': p.returncode, 'stdout': p.stdout, 'stderr': "
    "p.stderr[-2000:],"
    " 'maxrss_kb': u.ru_maxrss, 'cpu': u.ru_utime + u.ru_stime}))\n"
)


# --- content -------------------------------------------------------------------------------

def make_photo(seed: int) -> bytes:
    """A 1600×1200 JPEG of about 250 KB: gradients, shapes and noise, like a phone photo."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height = 1600, 1200
    base = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", [base.point(lambda v, s=s: (v * s) // 255 + rng.randrange(40))
                                for s in (200, 160, 120)])
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.rectangle([x, y, x + rng.randrange(30, 300), y + rng.randrange(30, 200)],
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    noise = Image.effect_noise((width, height), 28).convert("RGB")
    image = Image.blend(image, noise, 0.25).filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def content() -> dict:
    """The document's content as plain Python, shared by our data and the DOCX."""
    rng = random.Random(7)
    results = ["Đạt", "Đạt", "Đạt", "Đạt một phần", "Không đạt", "Chưa đánh giá"]
    sections, n = [], 0
    counts_per_section = [2, 1, 9, 2, 2, 2, 2, 0]  # 20
    rates_per_section = [1, 0, 3, 0, 1, 1, 2, 0]  # 8
    for (code, title), size, n_counts, n_rates in zip(SECTION_TITLES, SECTION_SIZES,
                                                      counts_per_section, rates_per_section,
                                                      strict=True):
        criteria = []
        for i in range(size):
            n += 1
            result = rng.choice(results)
            full = rng.choice([1, 1.5, 2])
            points = {"Đạt": full, "Đạt một phần": full / 2, "Không đạt": 0}.get(result)
            criteria.append((f"{code}.{i + 1:02d}", f"Tiêu chí kiểm tra số {n}: nội dung thực hiện "
                             f"nhiệm vụ cải cách hành chính theo kế hoạch của đơn vị", result,
                             points, full, "Ghi chú của thành viên đoàn" if i % 7 == 0 else ""))
        counts = [(f"{code}.C{i + 1}",
                   f"Số hồ sơ thủ tục hành chính loại {i + 1} tiếp nhận trong kỳ",
                   rng.randrange(10, 4000), "hồ sơ") for i in range(n_counts)]
        rates = [(f"{code}.R{i + 1}", f"Tỷ lệ hồ sơ giải quyết đúng hạn, nhóm {i + 1}",
                  round(rng.uniform(80, 100), 1), 98) for i in range(n_rates)]
        sections.append({"code": code, "title": title, "criteria": criteria, "counts": counts,
                         "rates": rates})
    recs = [(f"Kiến nghị số {i + 1}: khắc phục tồn tại, hạn chế đã nêu tại phần III, báo cáo "
             f"kết quả thực hiện", date(2021, 12, 31)) for i in range(N_RECS)]
    return {"sections": sections, "recommendations": recs}


def minutes_data(photo_paths: list[Path]):
    from inspection.pdf.data import (
        LEADER_FIELD,
        ChartBar,
        CountRow,
        CriterionRow,
        MinutesData,
        Person,
        PhotoItem,
        RateRow,
        RecommendationItem,
        ScoreSummary,
        SectionResult,
        SignatureBlock,
        UnitPart,
        unit_field,
    )

    c = content()
    sections = []
    for s in c["sections"]:
        points = sum(row[3] or 0 for row in s["criteria"])
        full = sum(row[4] for row in s["criteria"])
        sections.append(SectionResult(
            s["code"], s["title"], points, full,
            criteria=tuple(CriterionRow(code, title, result, pts, mx, note)
                           for code, title, result, pts, mx, note in s["criteria"]),
            counts=tuple(CountRow(code, title, value, unit) for code, title, value,
                         unit in s["counts"]),
            rates=tuple(RateRow(code, title, value, None, None, target, value >= target)
                        for code, title, value, target in s["rates"])))
    total = sum(s.points for s in sections)
    maximum = sum(s.max_points for s in sections)
    part = UnitPart(
        unit_name="UBND huyện Hạ Lang",
        time_place=("Hôm nay, vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021, tại trụ sở UBND huyện "
                    "Hạ Lang, Đoàn kiểm tra tiến hành kiểm tra công tác cải cách hành chính năm "
                    "2021 tại UBND huyện Hạ Lang như sau:"),
        representatives=(Person("Hoàng Văn Bình", "Phó Chủ tịch UBND huyện Hạ Lang"),),
        sections=tuple(sections),
        score=ScoreSummary(total, maximum, total / maximum * 100, "B – Khá"),
        chart=tuple(ChartBar(s.code, s.points, s.max_points) for s in sections),
        strengths=("Tiếp nhận 1.081 hồ sơ, trong đó 434 hồ sơ trực tuyến.",) * 3,
        weaknesses=("Tỷ lệ hồ sơ giải quyết đúng hạn chưa đạt mục tiêu của tỉnh.",) * 3,
        recommendations=tuple(RecommendationItem(text, due) for text, due in c["recommendations"]),
        report_due=date(2021, 12, 31),
        unit_comments="UBND huyện Hạ Lang nhất trí với nội dung biên bản.",
        photos=tuple(PhotoItem(caption=f"Ảnh minh chứng số {i + 1}", path=str(path),
                               captured_at=datetime(2021, 10, 1, 9, i % 60, tzinfo=VN),
                               latitude=22.7061, longitude=106.6895)
                     for i, path in enumerate(photo_paths)),
        signature=SignatureBlock(("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA",), "Hoàng Văn Bình",
                                 unit_field(1)),
    )
    return MinutesData(
        issuing_body=("UBND TỈNH CAO BẰNG", "ĐOÀN KIỂM TRA CCHC"), document_number="05/BB-ĐKT",
        place="Hạ Lang", date=date(2021, 10, 1),
        summary="Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang",
        parts=(part,),
        team=(Person("Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ", "Trưởng đoàn"),
              Person("Trần Thị Bình", "Chuyên viên Sở Nội vụ", "Thành viên")),
        legal_basis=("Căn cứ Kế hoạch số 3199/KH-UBND ngày 22/12/2020 của UBND tỉnh Cao Bằng;",),
        closing="Buổi kiểm tra kết thúc vào hồi 11 giờ 30 cùng ngày.",
        leader_signature=SignatureBlock(("TRƯỞNG ĐOÀN KIỂM TRA",), "Nguyễn Văn An", LEADER_FIELD),
        qr_url="https://cchc.example.vn/minutes/verify?inspection=1&revision=1", revision=1)


# --- the DOCX (minimal WordprocessingML) -----------------------------------------------------

W_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"')


def _run(text: str, bold=False, italic=False, size=26) -> str:
    props = ('<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" '
             'w:cs="Times New Roman"/>'
             + ("<w:b/>" if bold else "") + ("<w:i/>" if italic
                                             else "") + f'<w:sz w:val="{size}"/>')
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _p(text: str = "", align="both", bold=False, italic=False, size=26, indent=True,
       extra="") -> str:
    ind = '<w:ind w:firstLine="567"/>' if indent else ""
    return (f'<w:p><w:pPr><w:spacing w:after="120"/>{ind}<w:jc w:val="{align}"/></w:pPr>'
            f'{_run(text, bold, italic, size) if text else ""}{extra}</w:p>')


def _table(rows: list[list[str]], widths: list[int], header=True) -> str:
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblBorders>'
           + "".join(f'<w:{b} w:val="single" w:sz="4" w:color="000000"/>'
                     for b in ("top", "left", "bottom", "right", "insideH", "insideV"))
           + f'</w:tblBorders></w:tblPr><w:tblGrid>{grid}</w:tblGrid>']
    for r, row in enumerate(rows):
        cells = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>'
                        f'{_p(text, "left", bold=header and r == 0, size=23, indent=False)}</w:tc>'
                        for text, w in zip(row, widths, strict=True))
        out.append(f"<w:tr>{cells}</w:tr>")
    return "".join(out) + "</w:tbl>"


def _image(rid: str, n: int, cx: int, cy: int) -> str:
    return (f'<w:r><w:drawing><wp:inline><wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="{n}" '
            f'name="Ảnh {n}"/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/'
            f'drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="{n}" name="p{n}.jpeg"/>'
            f'<pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed="{rid}"/><a:stretch>'
            f'<a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
            f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
            f'</pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>')


def write_docx(path: Path, photo_paths: list[Path]) -> None:
    c = content()
    body = [
        _table([["UBND TỈNH CAO BẰNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
                ["ĐOÀN KIỂM TRA CCHC", "Độc lập - Tự do - Hạnh phúc"],
                ["Số: 05/BB-ĐKT", "Hạ Lang, ngày 01 tháng 10 năm 2021"]], [3700, 5600],
                header=False),
        _p("BIÊN BẢN", "center", bold=True, size=28, indent=False),
        _p("Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang", "center",
           bold=True, indent=False),
        _p("Căn cứ Kế hoạch số 3199/KH-UBND ngày 22/12/2020 của UBND tỉnh Cao Bằng;"),
        _p("Hôm nay, vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021, tại trụ sở UBND huyện Hạ Lang, "
           "Đoàn kiểm tra tiến hành kiểm tra công tác cải cách hành chính năm 2021 như sau:"),
        _p("I. THÀNH PHẦN", bold=True),
        _p("- Nguyễn Văn An, Phó Giám đốc Sở Nội vụ – Trưởng đoàn;"),
        _p("- Trần Thị Bình, Chuyên viên Sở Nội vụ – Thành viên;"),
        _p("II. NỘI DUNG, KẾT QUẢ KIỂM TRA", bold=True),
    ]
    for n, s in enumerate(c["sections"], 1):
        body.append(_p(f"{n}. {s['title']}", bold=True))
        body.append(_table([["Mã", "Tiêu chí", "Kết quả", "Điểm"]]
                           + [[code, title + (f" ({note})" if note else ""), result,
                               f"{pts if pts is not None else '–'}/{mx}"]
                              for code, title, result, pts, mx, note in s["criteria"]],
                           [1100, 5400, 1600, 1200]))
        if s["counts"]:
            body.append(_table([["Mã", "Số liệu", "Số lượng"]]
                               + [[code, title, f"{value:,}".replace(",", ".") + " " + unit]
                                  for code, title, value, unit in s["counts"]], [1100, 6200, 2000]))
        if s["rates"]:
            body.append(_table([["Mã", "Tỷ lệ", "Kết quả", "Mục tiêu", "Đánh giá"]]
                               + [[code, title, f"{value}%".replace(".", ","), f"≥ {target}%",
                                   "Đạt" if value >= target else "Chưa đạt"]
                                  for code, title, value, target in s["rates"]],
                               [1100, 4000, 1600, 1200, 1400]))
    body += [_p("III. NHẬN XÉT, ĐÁNH GIÁ", bold=True), _p("1. Ưu điểm", bold=True),
             _p("- Tiếp nhận 1.081 hồ sơ, trong đó 434 hồ sơ trực tuyến."),
             _p("2. Tồn tại, hạn chế", bold=True),
             _p("- Tỷ lệ hồ sơ giải quyết đúng hạn chưa đạt mục tiêu của tỉnh."),
             _p("IV. KIẾN NGHỊ", bold=True), _p("Đoàn kiểm tra đề nghị UBND huyện Hạ Lang:")]
    body += [_p(f"{i}. {text} (thời hạn: {due:%d/%m/%Y});") for i, (text, due)
             in enumerate(c["recommendations"], 1)]
    body += [_p("V. Ý KIẾN CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA", bold=True),
             _p("UBND huyện Hạ Lang nhất trí với nội dung biên bản."),
             _p("Buổi kiểm tra kết thúc vào hồi 11 giờ 30 cùng ngày."),
             _table([["ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "TRƯỞNG ĐOÀN KIỂM TRA"], ["", ""],
                     ["Hoàng Văn Bình", "Nguyễn Văn An"]], [4650, 4650], header=False),
             '<w:p><w:r><w:br w:type="page"/></w:r></w:p>',
             _p("PHỤ LỤC: ẢNH MINH CHỨNG", "center", bold=True, indent=False)]
    rels = ['<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/styles" Target="styles.xml"/>']
    cx, cy = int(75 * 36000), int(56 * 36000)  # 75 × 56 mm in EMU
    for i, _ in enumerate(photo_paths, 1):
        rels.append(f'<Relationship Id="rIdImg{i}" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/image" Target="media/image{i}.jpeg"/>')
        body.append(_p(extra=_image(f"rIdImg{i}", i, cx, cy), align="center", indent=False))
        body.append(_p(f"Ảnh minh chứng số {i}; Chụp lúc: 01/10/2021 09:{i % 60:02d}; "
                       "Tọa độ: 22,70610° B, 106,68950° Đ", "center", italic=True, size=20,
                       indent=False))
    document = (f'<?xml version="1.0" encoding="UTF-8" '
                f'standalone="yes"?><w:document {W_NS}><w:body>'
                + "".join(body)
                + '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="850" '
                'w:bottom="1134" w:left="1701" w:header="567" w:footer="567" w:gutter="0"/>'
                '</w:sectPr></w:body></w:document>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://'
                   'schemas.openxmlformats.org/package/2006/content-types"><Default '
                   'Extension="rels"'
                   ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/><Default Extension='
                   '"jpeg" ContentType="image/jpeg"/><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                   'document.main+xml"/><Override PartName="/word/styles.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
                   '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                   'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/_rels/document.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
                   '"http://schemas.openxmlformats.org/package/2006/relationships">'
                   + "".join(rels) + "</Relationships>")
        z.writestr("word/styles.xml",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles {W_NS}>'
                   '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" '
                   'w:hAnsi="Times New Roman"/><w:sz w:val="26"/><w:lang w:val="vi-VN"/></w:rPr>'
                   '</w:rPrDefault></w:docDefaults></w:styles>')
        z.writestr("word/document.xml", document)
        for i, photo in enumerate(photo_paths, 1):
            z.write(photo, f"word/media/image{i}.jpeg")


# --- runs ------------------------------------------------------------------------------------

def child_ours(workdir: Path) -> None:
    """One measured run of ours (in a fresh process): build, sign twice, write the file."""
    import resource

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    from inspection.pdf import LEADER_FIELD, render_minutes, unit_field
    from inspection.services.demo_pki import ensure_demo_pki
    from inspection.services.signing import sign_pdf
    imported = time.perf_counter()

    photos = sorted((workdir / "photos").glob("*.jpg"))
    pki = ensure_demo_pki(workdir / "pki")
    leader = pki.signer("leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ")
    unitrep = pki.signer("unitrep", "Nông Văn Én", "Chủ tịch UBND xã Cô Ngân")
    stamper = pki.timestamper()
    ready = time.perf_counter()
    rss_ready = rss_mb()

    cpu0 = time.process_time()
    data = minutes_data(photos)
    pdf = render_minutes(data)
    built = time.perf_counter()
    rss_built = rss_mb()
    once = sign_pdf(pdf, leader, "Trưởng đoàn kiểm tra", LEADER_FIELD, "Hạ Lang", "Ký biên bản",
                    timestamper=stamper, font_cache_dir=workdir / "font-cache")
    signed1 = time.perf_counter()
    twice = sign_pdf(once, unitrep, "Đại diện đơn vị", unit_field(1), "Hạ Lang", "Ký biên bản",
                     timestamper=stamper, font_cache_dir=workdir / "font-cache")
    signed2 = time.perf_counter()
    cpu = time.process_time() - cpu0
    (workdir / "ours.pdf").write_bytes(twice)
    print(json.dumps({"import": imported - t0, "keys": ready - imported, "build": built - ready,
                      "sign1": signed1 - built, "sign2": signed2 - signed1,
                      "build_and_sign": signed2 - ready, "cpu": cpu, "size": len(twice),
                      "rss_ready": rss_ready, "rss_built": rss_built, "rss_end": rss_mb()}))


def measure(command: list[str]) -> dict:
    """Run a command from a wrapper process: wall time and the command's peak RSS."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *command], capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{command[0]} failed: {result['stderr']}")
    return result


def pages(pdf: Path) -> str:
    if not shutil.which("pdfinfo"):
        return "?"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep photos and outputs here")
    parser.add_argument("--no-libreoffice", action="store_true")
    parser.add_argument("--child-ours", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ours:
        child_ours(args.child_ours)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-minutes-"))
    workdir.mkdir(parents=True, exist_ok=True)
    photo_dir = workdir / "photos"
    photo_dir.mkdir(exist_ok=True)
    photos = sorted(photo_dir.glob("*.jpg"))
    if len(photos) != N_PHOTOS:
        print(f"making {N_PHOTOS} photos…", file=sys.stderr)
        for i in range(N_PHOTOS):
            (photo_dir / f"photo{i:02d}.jpg").write_bytes(make_photo(i))
        photos = sorted(photo_dir.glob("*.jpg"))
    photo_bytes = sum(p.stat().st_size for p in photos)

    # Not measured: demo PKI, stamp font (both made once per installation).
    from inspection.services.demo_pki import ensure_demo_pki
    from inspection.services.stamp_font import stamp_font_path
    ensure_demo_pki(workdir / "pki")
    stamp_font_path(workdir / "font-cache")

    ours = [measure([sys.executable, __file__, "--child-ours", str(workdir)])
            for _ in range(args.runs)]
    inner = [json.loads(r["stdout"]) for r in ours]

    lo_rows, lo_note = [], ""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if args.no_libreoffice:
        lo_note = "LibreOffice: skipped (--no-libreoffice)"
    elif not soffice:
        lo_note = ("LibreOffice: not installed (apt-get install -y libreoffice-writer-nogui); "
                   "only ours is reported")
    else:
        docx = workdir / "minutes.docx"
        t = time.perf_counter()
        write_docx(docx, photos)
        docx_time = time.perf_counter() - t
        profile = workdir / "lo-profile"
        command = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(workdir / "lo"), str(docx)]
        cold = measure(command)  # creates the LibreOffice profile
        lo_rows = [measure(command) for _ in range(args.runs)]
        lo_note = (f"LibreOffice {lo_version(soffice)}: DOCX written in {docx_time:.2f} s "
                   f"({docx.stat().st_size / 1e6:.1f} MB, not counted); first start with a new "
                   f"profile {cold['wall']:.2f} s, {cold['maxrss_kb'] / 1024:.0f} MB (not counted)")

    med = statistics.median
    print()
    print(f"Minutes: {N_CRITERIA} criteria, {N_COUNTS} counts, {N_RATES} rates, {N_RECS} "
          f"recommendations, {N_PHOTOS} photos ({photo_bytes / 1e6:.1f} MB of JPEG); "
          f"median of {args.runs} runs, each a fresh process; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print()
    header = (f"{'':47} {'wall (s)':>8} {'CPU (s)':>8} {'peak RSS (MB)':>14} {'pages':>6} "
              f"{'size (MB)':>10}")
    print(header)
    print("-" * len(header))
    baseline = med(i["rss_ready"] for i in inner)
    print(f"{'ours: build + sign twice (in-process)':47} "
          f"{med(i['build_and_sign'] for i in inner):8.2f} "
          f"{med(i['cpu'] for i in inner):8.2f} "
          f"{'+' + format(med(i['rss_end'] - i['rss_ready'] for i in inner), '.0f'):>14}")
    print(f"{'   build (reportlab)':47} {med(i['build'] for i in inner):8.2f}")
    print(f"{'   signature 1, leader (pyHanko, B-T)':47} {med(i['sign1'] for i in inner):8.2f}")
    print(f"{'   signature 2, unit representative':47} {med(i['sign2'] for i in inner):8.2f}")
    print(f"{'ours: whole process (python, imports, keys)':47} {med(r['wall'] for r in ours):8.2f} "
          f"{med(r['cpu'] for r in ours):8.2f} {med(r['maxrss_kb'] for r in ours) / 1024:14.0f} "
          f"{pages(workdir / 'ours.pdf'):>6} {inner[-1]['size'] / 1e6:10.1f}")
    print(f"{'   of which after imports, before the document':47} {'':8} {'':8} {baseline:14.0f}")
    if lo_rows:
        out_pdf = workdir / "lo" / "minutes.pdf"
        print(f"{'LibreOffice: DOCX → PDF (soffice --headless)':47} "
              f"{med(r['wall'] for r in lo_rows):8.2f} {med(r['cpu'] for r in lo_rows):8.2f} "
              f"{med(r['maxrss_kb'] for r in lo_rows) / 1024:14.0f} {pages(out_pdf):>6} "
              f"{out_pdf.stat().st_size / 1e6:10.1f}")
        print("   (unsigned; LibreOffice recompresses the photos, hence the smaller file)")
    print()
    print(lo_note)
    wall, cpu = med(i["build_and_sign"] for i in inner), med(i["cpu"] for i in inner)
    whole = med(r["maxrss_kb"] for r in ours) / 1024
    added = med(i["rss_end"] - i["rss_ready"] for i in inner)
    print(f"target build + sign twice < 1 s: {'met' if wall < 1 else 'NOT met'} in wall time "
          f"({wall:.2f} s), {'met' if cpu < 1 else 'NOT met'} in CPU time ({cpu:.2f} s); wall time "
          f"includes waiting for a CPU when the machine is busy")
    print(f"target peak memory < 150 MB: {'met' if whole < 150 else 'NOT met'} for the whole "
          f"process ({whole:.0f} MB, of which {baseline:.0f} MB are Python and the libraries "
          f"imported before any document); the document itself adds {added:.0f} MB")
    print(f"files in {workdir}")


def lo_version(soffice: str) -> str:
    try:
        out = subprocess.run([soffice, "--version"], capture_output=True, text=True, timeout=60)
        return " ".join(out.stdout.split()[1:2])
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
