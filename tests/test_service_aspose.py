"""The Aspose OCR Cloud v5 compatible API, driven by the official ``aspose-ocr-cloud`` 24.11 SDK
against a real uvicorn server: only the host and the access token differ from the Aspose cloud."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image
from service_helpers import PRINTED_LINE_1, ServerThread, get_token, handwritten_title, printed_lines, words_of

from inkread.service.app import ServiceSettings, create_app
from inkread.service.auth import create_client
from inkread.service.store import open_store

A = pytest.importorskip("aspose_ocr_cloud", reason="the aspose-ocr-cloud SDK is not installed (pip install '.[test]')")
from aspose_ocr_cloud.models import (  # noqa: E402
    DsrConfidence,
    DsrMode,
    Language,
    OCRRecognizeImageBody,
    OCRRecognizePdfBody,
    OCRSettingsRecognizeImage,
    OCRSettingsRecognizePdf,
    ResultType,
)


def _server(tmp_path_factory, **settings):
    db = str(tmp_path_factory.mktemp("aspose") / "service.db")
    store = open_store(db)
    clients = [create_client(store, name) for name in ("a", "b")]
    server = ServerThread(create_app(ServiceSettings(db=db, poll_interval=0.1, **settings), store=store)).start()
    server.store = store
    server.tokens = [get_token(server.url, record.id, secret) for record, secret in clients]
    return server


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    server = _server(tmp_path_factory, workers=1)
    yield server
    server.stop()
    server.store.close()


def _api_client(service, which: int = 0, token: str | None = None):
    config = A.Configuration(host=service.url, access_token=token or service.tokens[which])
    return A.ApiClient(config)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _wait(client, task_id: str, timeout: float = 60):
    utilities = A.UtilitiesApi(client)
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        status = utilities.get_task_status(task_id)
        seen.append(status.task_status)
        assert status.results is None
        if status.task_status in ("Completed", "Error"):
            return seen
        assert time.monotonic() < deadline, seen
        time.sleep(0.1)


def _image_settings(**overrides):
    settings = dict(language=Language("English"), makeSkewCorrect=False, makeBinarization=False,
                    makeSpellCheck=False, makeContrastCorrection=False, makeUpsampling=False,
                    dsrMode=DsrMode("NoDsrNoFilter"), dsrConfidence=DsrConfidence("Default"),
                    resultType=ResultType("Text"))
    settings.update(overrides)
    return OCRSettingsRecognizeImage(**settings)


def test_handwritten_english_with_text_and_hocr(service):
    with _api_client(service) as client:
        api = A.RecognizeImageApi(client)
        body = OCRRecognizeImageBody(image=_b64(handwritten_title()),
                                     settings=_image_settings(language=Language("HWT_ENG"),
                                                              resultType=ResultType("TextAndHocr")))
        task_id = api.post_recognize_image(body)
        assert isinstance(task_id, str) and len(task_id) == 36
        seen = _wait(client, task_id)
        assert seen[-1] == "Completed" and set(seen) <= {"Pending", "Processing", "Completed"}
        response = api.get_recognize_image(id=task_id)
    assert response.id == task_id and response.task_status == "Completed" and response.response_status_code == "Ok"
    assert [r.type for r in response.results] == ["Text", "Hocr"]
    text = base64.b64decode(response.results[0].data).decode("utf-8")
    assert words_of(text) == {"saturday", "errands"}
    hocr = base64.b64decode(response.results[1].data).decode("utf-8")
    assert 'class="ocr_page"' in hocr and 'class="ocr_line"' in hocr and ">Saturday</span>" in hocr
    assert "x_wconf" in hocr
    task = service.store.get_task(task_id)
    assert task.options["recognition"]["mode"] == "handwritten"
    assert task.options["recognition"]["preprocess"] == {"upscale": "off", "contrast": "off", "denoise": "off",
                                                        "binarize": "off", "deskew": "off"}


def test_printed_json_result_and_switches(service):
    with _api_client(service) as client:
        api = A.RecognizeImageApi(client)
        body = OCRRecognizeImageBody(image=_b64(printed_lines()),
                                     settings=_image_settings(makeSkewCorrect=True, makeContrastCorrection=True,
                                                              resultType=ResultType("JSON")))
        task_id = api.post_recognize_image(body)
        _wait(client, task_id)
        response = api.get_recognize_image(task_id)
    assert [r.type for r in response.results] == ["JSON"]
    result = json.loads(base64.b64decode(response.results[0].data))
    assert PRINTED_LINE_1 in result["text"] and result["pages"][0]["lines"][0]["words"]
    pre = service.store.get_task(task_id).options["recognition"]["preprocess"]
    assert pre["deskew"] == "on" and pre["contrast"] == "on" and pre["binarize"] == "off"


def test_rotate_turns_the_image_first(service):
    turned = Image.open(io.BytesIO(printed_lines())).rotate(90, expand=True)  # text now runs upwards
    buf = io.BytesIO()
    turned.save(buf, "PNG")
    with _api_client(service) as client:
        api = A.RecognizeImageApi(client)
        task_id = api.post_recognize_image(OCRRecognizeImageBody(
            image=_b64(buf.getvalue()), settings=_image_settings(Rotate=90, resultType=ResultType("JSON"))))
        _wait(client, task_id)
        result = json.loads(base64.b64decode(api.get_recognize_image(task_id).results[0].data))
    page = result["pages"][0]
    assert (page["width"], page["height"]) == (1240, 180)  # turned back clockwise before reading
    assert PRINTED_LINE_1 in result["text"]


def test_recognize_pdf(service):
    pdf = io.BytesIO()
    Image.open(io.BytesIO(printed_lines())).convert("RGB").save(pdf, "PDF", resolution=150)
    with _api_client(service) as client:
        api = A.RecognizePdfApi(client)
        settings = OCRSettingsRecognizePdf(language=Language("English"), makeSkewCorrect=False,
                                           makeBinarization=False, resultType=ResultType("TextAndPdf"))
        task_id = api.post_recognize_pdf(OCRRecognizePdfBody(image=_b64(pdf.getvalue()), settings=settings))
        _wait(client, task_id)
        response = api.get_recognize_pdf(id=task_id)
    assert response.task_status == "Completed"
    assert [r.type for r in response.results] == ["Text"]
    assert "community library" in base64.b64decode(response.results[0].data).decode("utf-8")
    assert any("Pdf" in w for w in response.error.warnings)  # what was not produced is said


def test_unknown_and_other_clients_tasks_do_not_exist(service):
    with _api_client(service, 0) as a, _api_client(service, 1) as b:
        task_id = A.RecognizeImageApi(a).post_recognize_image(
            OCRRecognizeImageBody(image=_b64(handwritten_title()), settings=_image_settings()))
        for client, tid in ((a, "no-such-task"), (b, task_id)):
            response = A.RecognizeImageApi(client).get_recognize_image(tid)
            assert response.task_status == "NotExist" and response.response_status_code == "TaskNotFound"
            assert A.UtilitiesApi(client).get_task_status(tid).task_status == "NotExist"
        _wait(a, task_id)


def test_errors_reach_the_sdk(service):
    with _api_client(service, token="not-a-token") as client:
        with pytest.raises(A.ApiException) as info:
            A.RecognizeImageApi(client).post_recognize_image(
                OCRRecognizeImageBody(image=_b64(printed_lines()), settings=_image_settings()))
    assert info.value.status == 401
    assert json.loads(info.value.body)["title"] == "AuthenticationError"
    with _api_client(service) as client:
        api = A.RecognizeImageApi(client)
        with pytest.raises(A.ApiException) as info:
            api.post_recognize_image(OCRRecognizeImageBody(image=_b64(printed_lines()),
                                                           settings=_image_settings(language=Language("Zulu"))))
        assert info.value.status == 400 and "UnsupportedLanguageError" in info.value.body
        with pytest.raises(A.ApiException) as info:
            api.post_recognize_image(OCRRecognizeImageBody(image=_b64(b"plain text"), settings=_image_settings()))
        assert info.value.status == 415
        # a damaged image is found while recognising: the task ends in Error with the reason
        task_id = api.post_recognize_image(OCRRecognizeImageBody(image=_b64(printed_lines()[:300]),
                                                                 settings=_image_settings()))
        assert _wait(client, task_id)[-1] == "Error"
        response = api.get_recognize_image(task_id)
    assert response.response_status_code == "Error" and response.results is None
    assert response.error.messages[0].startswith("CorruptInputError:")


def test_cancel(tmp_path_factory):
    server = _server(tmp_path_factory, workers=0, preload_models=False)  # queues only: the task waits
    try:
        with _api_client(server) as client:
            api = A.RecognizeImageApi(client)
            task_id = api.post_recognize_image(OCRRecognizeImageBody(image=_b64(printed_lines()),
                                                                     settings=_image_settings()))
            assert A.UtilitiesApi(client).get_task_status(task_id).task_status == "Pending"
            api.cancel_recognize_image(task_id)
            response = api.get_recognize_image(task_id)
            assert response.task_status == "Error" and "cancelled" in response.error.messages[0]
    finally:
        server.stop()
        server.store.close()
