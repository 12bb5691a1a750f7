"""The AWS adapters' clients come from one session whose loader decodes botocore's data with
orjson (adapters/aws_clients.py): the same data, in the same order, as botocore's own loader."""

from __future__ import annotations

import gzip
import json
import math

import botocore.loaders
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import JSONFileLoader, Loader

from skillsession.adapters import aws_clients

# what making our clients reads, plain JSON and gzipped
SERVICES = ["dynamodb/2012-08-10", "s3/2006-03-01", "sns/2010-03-31", "ses/2010-12-01"]
SERVICES += ["cognito-idp/2016-04-18"]
DATA = ["endpoints", "partitions", "sdk-default-configuration", "_retry"] + [
    f"{service}/{kind}" for service in SERVICES for kind in ("service-2", "endpoint-rule-set-1")
]


@pytest.mark.parametrize("name", DATA)
def test_the_loader_reads_what_botocore_reads(name):
    path = Loader().BUILTIN_DATA_PATH + "/" + name
    ours = aws_clients.OrjsonFileLoader().load_file(path)
    theirs = JSONFileLoader().load_file(path)
    assert ours is not None
    assert ours == theirs and json.dumps(ours) == json.dumps(theirs)  # values and order


def test_what_orjson_refuses_botocore_decodes(tmp_path):
    (tmp_path / "nan.json").write_text('{"max": NaN}')
    with gzip.open(tmp_path / "small.json.gz", "wt") as file:
        file.write('{"b": 1, "a": [1.5, null]}')
    loader = aws_clients.OrjsonFileLoader()
    assert math.isnan(loader.load_file(str(tmp_path / "nan"))["max"])
    assert list(loader.load_file(str(tmp_path / "small")).items()) == [("b", 1), ("a", [1.5, None])]
    assert loader.load_file(str(tmp_path / "absent")) is None


def test_clients_share_one_session_and_its_loader(monkeypatch):
    monkeypatch.setattr(aws_clients, "_session", None)
    kwargs = {"region_name": "eu-west-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    dynamodb = aws_clients.client("dynamodb", **kwargs)
    session = aws_clients._session
    s3 = aws_clients.client("s3", **kwargs)
    assert aws_clients._session is session
    assert dynamodb.meta.service_model.service_name == "dynamodb"
    assert s3.meta.service_model.service_name == "s3"
    loader = session._session.get_component("data_loader")
    assert isinstance(loader, aws_clients.Loader)
    assert isinstance(loader.file_loader, aws_clients.OrjsonFileLoader)
    assert loader.search_paths[:-1] == Loader().search_paths  # botocore's, then boto3's
    assert loader.search_paths[-1].endswith("boto3/data")


@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "waiters-2"])
def test_the_list_of_services_is_botocores(type_name):
    theirs = botocore.loaders.Loader().list_available_services(type_name)
    ours = aws_clients.Loader()
    assert all(name in ours.list_available_services(type_name) for name in theirs)
    assert list(ours.list_available_services(type_name)) == theirs
    assert len(ours.list_available_services(type_name)) == len(theirs)
    for name in ("no-such-service", "", ".", "..", "dynamodb/2012-08-10", None):
        assert name not in ours.list_available_services(type_name)


def test_an_unknown_service_is_refused_with_the_known_ones(monkeypatch):
    monkeypatch.setattr(aws_clients, "_session", None)
    with pytest.raises(UnknownServiceError, match="dynamodb"):
        aws_clients.client("no-such-service", region_name="eu-west-1")
