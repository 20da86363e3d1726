"""The field app's modules on their own, in the browser but outside the app: the outbox (no DOM)
against a scratch IndexedDB, and the tus client against the real upload endpoint."""
from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from field_helpers import ha_lang_id
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Photo

pytestmark = pytest.mark.browser


def test_outbox_coalesces_unsent_edits_and_rebases_edits_made_during_a_push(live_server, page):
    # A page outside /app/: the app does not run there, only the modules the test imports.
    page.goto(live_server.url + "/api/openapi.json")
    result = page.evaluate("""async () => {
        const db = await import('/static/js/db.js');
        db.useDatabase('outbox-test');
        const o = await import('/static/js/outbox.js');
        const fields = (ops) => ops.map(
            (op) => [op.field, op.fields[op.field], op.base_version, op.attempts]);
        for (const typed of [1, 10, 108]) await o.saveField(7, 'TTHC.20', 'value', typed);
        await o.saveField(7, 'TTHC.20', 'note', 'sổ theo dõi');
        const coalesced = fields(await o.pendingOps());
        const batch = await o.takeBatch(100);
        await o.saveField(7, 'TTHC.20', 'value', 1081);   // typed while the push is in flight
        const during = fields(await o.pendingOps());
        const second = await o.takeBatch(100);          // the earlier value op is still out there
        await o.applyPushResults(batch, [
            { op_id: batch[0].op_id, status: 'applied', version: 5 },
            { op_id: batch[1].op_id, status: 'rejected', reason: 'invalid_field',
              message: 'ghi chú quá dài' },
        ]);
        const after = fields(await o.pendingOps());
        const attention = (await o.listAttention()).map((a) => [a.kind, a.field, a.message]);
        const local = await db.get('observations', [7, 'TTHC.20']);
        // The answer to the last op was lost; the retry is a duplicate of a refused op.
        const third = await o.takeBatch(100);
        await o.applyPushResults(third, [{ op_id: third[0].op_id, status: 'duplicate',
            original_status: 'rejected', reason: 'locked', message: 'đã duyệt' }]);
        const final = { left: (await o.pendingOps()).length,
                        attention: (await o.listAttention()).map((a) => a.message).sort() };
        return { coalesced, during, secondSize: second.length, after, attention, final,
                 local: [local.value, local.note, local.bases.value] };
    }""")
    assert result["coalesced"] == [["value", 108, 0, 0], ["note", "sổ theo dõi", 0, 0]]
    assert result["during"] == [["value", 108, 0, 1], ["note", "sổ theo dõi", 0, 1],
                                ["value", 1081, 0, 0]]
    assert result["secondSize"] == 2  # value 1081 waits: one op per field per batch
    # The later edit was made on top of the applied one: it now carries version 5 as its base.
    assert result["after"] == [["value", 1081, 5, 0]]
    assert result["attention"] == [["rejected", "note", "ghi chú quá dài"]]
    assert result["local"] == [1081, "sổ theo dõi", 5]
    # A duplicate of an op that was refused the first time is still refused, never dropped.
    assert result["final"] == {"left": 0, "attention": ["ghi chú quá dài", "đã duyệt"]}


def test_an_upload_cut_at_90_percent_resumes_and_resends_at_most_one_chunk(
        live_server, context, sign_in, camera_jpeg):
    page = sign_in(context, "inspector1")
    photo = camera_jpeg(900, 700)
    client_uuid = str(uuid.uuid4())
    chunk = 64 * 1024
    result = page.evaluate("""async ([b64, inspectionId, clientUuid, chunk]) => {
        const { upload } = await import('/static/js/tus.js');
        const { apiFetch, NetworkError } = await import('/static/js/api.js');
        const { sha256Hex } = await import('/static/js/photos.js');
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const blob = new Blob([bytes], { type: 'image/jpeg' });
        const metadata = { client_uuid: clientUuid, inspection_id: inspectionId,
                           item_code: 'CDDH.12', sha256: await sha256Hex(blob),
                           filename: 'a.jpg', content_type: 'image/jpeg' };
        let url = null; let cut = false; let sent = 0;
        const send = async (target, init) => {
            const offset = Number((init.headers || {})['Upload-Offset'] || 0);
            if (init.method === 'PATCH' && !cut && offset + init.body.size > 0.9 * blob.size) {
                cut = true;                 // the signal drops while this chunk is on its way
                sent += init.body.size;
                throw new NetworkError('cut');
            }
            if (init.method === 'PATCH') sent += init.body.size;
            return apiFetch(target, init);
        };
        const options = { endpoint: '/api/v1/uploads', blob, metadata, chunkSize: chunk, send,
                          onCreated: (u) => { url = u; } };
        let first = null;
        try { await upload(options); } catch (err) { first = err.name; }
        const done = await upload({ ...options, uploadUrl: url });
        return { first, photoId: done.photoId, sent, size: blob.size, sha: metadata.sha256 };
    }""", [base64.b64encode(photo).decode(), ha_lang_id(live_server), client_uuid, chunk])
    assert result["first"] == "NetworkError"
    assert result["size"] == len(photo)
    assert 0 <= result["sent"] - result["size"] <= chunk
    stored = live_server.query(
        lambda: [(p.id, p.sha256) for p in db.session.scalars(select(Photo))])
    assert stored == [(int(result["photoId"]), hashlib.sha256(photo).hexdigest())]


def test_locked_work_is_set_apart_for_its_owner_and_given_back_only_to_them(live_server, page):
    """What the app does when the server says an account was ended (store.lockUnsentWork), on a
    scratch database: the unsent work is kept apart, everything else goes, and only the same
    username gets it back, in its order (the end-to-end test with the server's real answers is
    tests/browser/test_field_locked.py)."""
    page.goto(live_server.url + "/api/openapi.json")
    result = page.evaluate("""async () => {
        const db = await import('/static/js/db.js');
        db.useDatabase('locked-test');
        const o = await import('/static/js/outbox.js');
        const s = await import('/static/js/store.js');
        await s.saveSession({ user: { id: 7, username: 'inspector1', full_name: 'Trần Thị Bình' },
                              csrf_token: 't', verifier: { algorithm: 'PBKDF2-SHA-256' } });
        const device = await s.deviceId();
        await db.put('assignments', { id: 1, inspection: { id: 1, state: 'in_progress',
            unit: { full_name: 'Huyện Hạ Lang' }, checklist_version_id: 3 } });
        await db.put('checklists', { version_id: 3, document: {} });
        await o.saveField(1, 'CDDH.01', 'note', 'chưa gửi 1');
        await o.saveField(1, 'CDDH.02', 'value', 7);
        await db.put('observations', { inspection_id: 1, item_code: 'CDDH.03', result: 'pass' });
        await s.savePhoto({ client_uuid: 'p-sent', inspection_id: 1, status: 'done',
                            blob: new Blob(['a']) });
        await s.savePhoto({ client_uuid: 'p-unsent', inspection_id: 1, status: 'pending',
                            blob: new Blob(['b']) });
        const notice = await s.lockUnsentWork('account_deactivated');
        const counts = async () => Object.fromEntries(await Promise.all(db.STORES.map(
            async (name) => [name, await db.count(name)])));
        const afterLock = await counts();
        const summary = await s.lockedWork();
        const other = await s.unlockWork('inspector2');
        const back = await s.unlockWork('INSPECTOR1');
        const ops = (await o.pendingOps()).map((op) => [op.item_code, op.fields]);
        const photos = (await db.getAll('photos')).map((p) => p.client_uuid);
        const note = (await db.get('observations', [1, 'CDDH.01'])).note;
        return { notice, afterLock, summary, other, back, ops, photos, note,
                 device: await s.deviceId() === device, lockedLeft: await db.count('locked') };
    }""")
    assert result["notice"]["kept"] == {"ops": 2, "photos": 1, "rejected": 0}
    # Only the device id (meta) and the why (meta) stay besides the locked work.
    assert result["afterLock"] == {"session": 0, "checklists": 0, "assignments": 0,
                                   "observations": 0, "photos": 0, "outbox": 0,
                                   "attention": 0, "meta": 2, "samples": 0}
    [summary] = result["summary"]
    assert summary["username"] == "inspector1" and summary["units"] == ["Huyện Hạ Lang"]
    assert summary["kept"] == {"ops": 2, "photos": 1, "rejected": 0} and summary["can_export"]
    assert result["other"] is None  # another person gets nothing back
    assert result["back"] == {"ops": 2, "photos": 1, "rejected": 0}
    assert result["ops"] == [["CDDH.01", {"note": "chưa gửi 1"}], ["CDDH.02", {"value": 7}]]
    assert result["photos"] == ["p-unsent"] and result["note"] == "chưa gửi 1"
    assert result["device"] and result["lockedLeft"] == 0
