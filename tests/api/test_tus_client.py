"""The official tus client (tuspy) against the upload endpoint over real sockets: it uploads in
chunks with its default checksum (sha1), the connection is cut in the middle of a chunk, and a
new client resumes from the offset the server reports, as a tablet does after a lost signal."""
import hashlib
import http.client
import io
import random
import threading
import uuid

import pytest
import requests
from PIL import Image
from sqlalchemy import select
from tusclient import client as tus
from werkzeug.serving import WSGIRequestHandler, make_server

from inspection.extensions import db
from inspection.models import Inspection, Photo, Upload

CHUNK = 64 * 1024


class QuietHandler(WSGIRequestHandler):
    def log(self, *args, **kwargs):
        pass


@pytest.fixture
def live(demo):
    """The demo app served on a free loopback port by a threaded server."""
    server = make_server("127.0.0.1", 0, demo, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def noisy_jpeg() -> bytes:
    rng = random.Random(3)
    image = Image.frombytes("RGB", (640, 480), rng.randbytes(640 * 480 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_tuspy_uploads_with_a_cut_and_a_resume(live):
    data = noisy_jpeg()
    assert len(data) > 4 * CHUNK
    inspection_id = next(i.id for i in db.session.query(Inspection) if i.unit.code == "048")
    session = requests.Session()
    signed_in = session.post(f"{live}/api/v1/auth/login",
                             json={"username": "inspector1", "password": "demo1234"})
    headers = {"X-CSRF-Token": signed_in.json()["csrf_token"],
               "Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items())}
    client = tus.TusClient(f"{live}/api/v1/uploads", headers=headers)
    client_uuid = str(uuid.uuid4())
    metadata = {"client_uuid": client_uuid, "inspection_id": str(inspection_id),
                "sha256": hashlib.sha256(data).hexdigest(), "filename": "bang-niem-yet.jpg",
                "caption": "Bảng niêm yết TTHC"}

    first = client.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata=metadata,
                            upload_checksum=True)
    first.upload_chunk()
    first.upload_chunk()
    assert first.offset == 2 * CHUNK

    # The signal drops in the middle of the third chunk: 20 KB of it arrive, then nothing.
    host, port = live.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("PATCH", first.url.removeprefix(live))
    for name, value in {**headers, "Tus-Resumable": "1.0.0", "Upload-Offset": str(2 * CHUNK),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(CHUNK)}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(data[2 * CHUNK:2 * CHUNK + 20_000])
    connection.sock.close()
    connection.close()

    # A new client (the app was restarted) resumes from the server's offset, with HEAD.
    arrived = 2 * CHUNK + 20_000
    for _ in range(100):  # the server notices the cut when its read fails
        resumed = client.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, url=first.url,
                                  metadata=metadata, upload_checksum=True)
        if resumed.offset == arrived:
            break
        threading.Event().wait(0.05)
    assert resumed.offset == arrived  # nothing sent twice, nothing lost
    resumed.upload()
    assert resumed.offset == len(data)

    db.session.expire_all()
    photo = db.session.scalars(select(Photo).where(
        Photo.client_uuid == uuid.UUID(client_uuid))).one()
    assert (photo.sha256, photo.size, photo.caption) == (metadata["sha256"], len(data),
                                                        "Bảng niêm yết TTHC")
    upload = db.session.scalars(select(Upload).where(Upload.photo_id == photo.id)).one()
    assert upload.completed_at is not None
    stored = requests.get(f"{live}/api/v1/photos/{photo.id}", cookies=session.cookies)
    assert stored.status_code == 200 and stored.content == data
