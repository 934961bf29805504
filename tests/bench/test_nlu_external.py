"""The external NLU benchmark's pure parts (bench/nlu_external.py): the sets'
label conventions, the Rasa inputs it writes and its scoring arithmetic, on
tiny samples written here. Nothing is trained and no shared set is read."""

from __future__ import annotations

import pytest
import yaml

from bench.nlu_external import (
    Example,
    Prediction,
    base_pipeline,
    bench_config,
    fallback_thresholds,
    falls_back,
    hint3_set,
    intent_names,
    judge,
    nlu_yaml,
    nlupp_label,
    nlupp_set,
    read_csv,
    score,
    spread,
    subset,
    summarise,
)


def rows(label: list[str] | None, n: int, word: str = "x") -> list[dict]:
    return [{"text": f"{word} {i}", **({"intents": label} if label is not None else {})} for i in range(n)]


def test_a_label_is_the_sorted_intents_joined_with_plus() -> None:
    assert nlupp_label({"intents": ["change", "booking"]}) == "booking+change"
    assert nlupp_label({"intents": []}) is None
    assert nlupp_label({"text": "no intent key"}) is None


def test_nlupp_folds_labels_and_out_of_scope() -> None:
    folds: dict[int, list[dict]] = {fold: [] for fold in range(20)}
    folds[0] = rows(["b", "a"], 8, "common") + rows(["rare"], 3) + rows(None, 5, "oos")
    folds[15] = rows(["a", "b"], 2, "tested") + rows(["rare"], 1) + rows(None, 4, "oos")
    data = nlupp_set("s", "tr", folds)
    # "a+b" has 10 rows over all folds (kept), "rare" 4 (left out with its 4 rows)
    assert data.labels == ["a+b"]
    assert [e.label for e in data.train] == ["a+b"] * 8  # the 5 out-of-scope rows are not trained on
    assert [e.label for e in data.test] == ["a+b", "a+b", None, None, None, None]
    assert data.dropped == 4


def test_nlupp_folds_0_to_14_train_and_15_to_19_test() -> None:
    folds: dict[int, list[dict]] = {fold: rows(["a"], 1, f"fold{fold}") for fold in range(20)}
    data = nlupp_set("s", "en", folds)
    assert [e.text for e in data.train] == [f"fold{f} 0" for f in range(15)]
    assert [e.text for e in data.test] == [f"fold{f} 0" for f in range(15, 20)]


def test_hint3_no_nodes_detected_is_out_of_scope() -> None:
    train = read_csv('sentence,label\nEMI options?,EMI\n"Cost, please",PRICE\nhello,NO_NODES_DETECTED\n')
    assert train[1] == ("Cost, please", "PRICE")
    test = [("emi", "EMI"), ("where is my order", "NO_NODES_DETECTED"), ("warranty", "WARRANTY"), ("  ", "EMI")]
    data = hint3_set("hint3_x", train, test)
    assert data.labels == ["EMI", "PRICE"]
    assert [e.label for e in data.test] == ["EMI", None]
    assert data.dropped == 2  # a label training never saw, an empty text


def test_intent_names_are_unique_and_plain() -> None:
    names = intent_names(["booking+change", "a b", "a-b", "EMI", "+"])
    assert names["booking+change"] == "booking__change"
    assert {names["a b"], names["a-b"]} == {"a_b", "a_b_2"}
    assert names["+"] == "intent"
    assert all(n.replace("_", "").isalnum() for n in names.values())


def test_nlu_yaml_reads_back_without_entity_markup_or_out_of_scope() -> None:
    from bench.nlu_external import clean_text

    examples = [
        Example(clean_text("book [a room](x)\nfor two"), "booking+new"),
        Example("# not a comment: 'quoted' \"too\"", "booking+new"),
        Example("cancel", "cancel"),
        Example("cancel", "cancel"),
        Example("hello", None),
    ]
    names = intent_names(["booking+new", "cancel"])
    data = yaml.safe_load(nlu_yaml(examples, names))
    by_intent = {block["intent"]: block["examples"].splitlines() for block in data["nlu"]}
    assert by_intent == {
        "booking__new": ["- book (a room)(x) for two", "- # not a comment: 'quoted' \"too\""],
        "cancel": ["- cancel"],
    }


def test_bench_config_seeds_and_takes_out_the_fallback() -> None:
    ours = {
        "language": "tr",
        "pipeline": [
            {"name": "bot.components.bilingual_tokenizer.BilingualSpacyTokenizer", "pipelines_dir": "build/spacy"},
            {"name": "DIETClassifier", "epochs": 25, "random_seed": 42},
            {"name": "ResponseSelector", "epochs": 15},
            {"name": "FallbackClassifier", "threshold": 0.45, "ambiguity_threshold": 0.05},
        ],
    }
    config = bench_config(base_pipeline(ours, {}), seed=7, language="en", spacy_dir="/abs/spacy")
    assert config["language"] == "en"
    assert [c["name"] for c in config["pipeline"]][1:] == ["DIETClassifier", "ResponseSelector"]
    assert config["pipeline"][0]["pipelines_dir"] == "/abs/spacy"
    assert [c["random_seed"] for c in config["pipeline"][1:]] == [7, 7]
    assert [c["epochs"] for c in config["pipeline"][1:]] == [25, 15]
    assert ours["pipeline"][1]["random_seed"] == 42  # the given config is not changed
    quick = bench_config(ours["pipeline"], seed=1, language="tr", epochs=3)
    assert [c.get("epochs") for c in quick["pipeline"]] == [None, 3, 3]
    assert fallback_thresholds(ours) == (0.45, 0.05)


def test_an_empty_pipeline_is_rasas_default() -> None:
    default = {"pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "FallbackClassifier"}]}
    assert base_pipeline({"pipeline": None}, default) == default["pipeline"]
    assert fallback_thresholds(default) == (0.3, 0.1)  # Rasa's own defaults
    with pytest.raises(ValueError):
        fallback_thresholds({"pipeline": [{"name": "DIETClassifier"}]})


def test_falls_back_like_rasas_fallback_classifier() -> None:
    assert falls_back(Prediction("a", 0.44, 0.1), 0.45, 0.05)  # below the threshold
    assert not falls_back(Prediction("a", 0.45, 0.1), 0.45, 0.05)  # at it
    assert falls_back(Prediction("a", 0.6, 0.56), 0.45, 0.05)  # ambiguous
    assert not falls_back(Prediction("a", 0.6, None), 0.45, 0.05)  # no runner-up
    assert not falls_back(Prediction("a", 0.01, 0.009), 0.0, 0.0)  # never at 0
    assert falls_back(Prediction(None, 0.9), 0.0, 0.0)


def test_score_in_scope_and_out_of_scope() -> None:
    gold = ["a", "a", "b", "b", None, None, None]
    predicted = [
        Prediction("a", 0.9, 0.05),  # right, confident
        Prediction("a", 0.3, 0.2),  # right, falls back at 0.45
        Prediction("a", 0.8, 0.1),  # wrong
        Prediction("b", 0.5, 0.48),  # right, ambiguous
        Prediction("a", 0.2, 0.1),  # out of scope, falls back
        Prediction("b", 0.9, 0.01),  # out of scope, taken as b
        Prediction("a", 0.46, 0.1),  # out of scope, taken as a
    ]
    s = score(gold, predicted, 0.45, 0.05)
    assert s["accuracy"] == 0.75
    assert s["in_scope_accuracy"] == 0.25
    assert s["oos_recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["in_scope_accuracy_at_0"] == 0.75
    assert s["oos_recall_at_0"] == 0.0
    assert (s["in_scope"], s["out_of_scope"]) == (4, 3)
    assert score(["a"], [Prediction("a", 1.0)], 0.45, 0.05)["oos_recall"] is None
    with pytest.raises(ValueError):
        score(["a"], [], 0.45, 0.05)


def test_spread_over_seeds() -> None:
    s = spread([0.8, 0.9, 1.0])
    assert s["mean"] == pytest.approx(0.9)
    assert s["sd"] == pytest.approx(0.1)
    assert (s["min"], s["max"]) == (0.8, 1.0)
    assert spread([0.5])["sd"] == 0.0
    assert spread([None])["mean"] is None


def summary(accuracy: list[float], in_scope: list[float], oos: list[float]) -> dict:
    runs = [
        {
            "seed": i,
            "train_s": 10.0,
            "model_mib": 4.0,
            "scores": {
                "accuracy": a,
                "in_scope_accuracy": s,
                "oos_recall": o,
                "in_scope_accuracy_at_0": a,
                "oos_recall_at_0": 0.0,
            },
        }
        for i, (a, s, o) in enumerate(zip(accuracy, in_scope, oos, strict=True))
    ]
    return summarise(runs)


def test_targets_are_points_between_the_means() -> None:
    theirs = summary([0.60, 0.62, 0.64], [0.5] * 3, [0.4] * 3)
    assert judge("multi3nlu_tr_hotels", summary([0.72, 0.72, 0.72], [0.5] * 3, [0.4] * 3), theirs)["met"]
    close = judge("nlupp_en_hotels", summary([0.71, 0.71, 0.71], [0.5] * 3, [0.4] * 3), theirs)
    assert close == {"figure": "accuracy", "target_points": 10.0, "difference_points": 9.0, "met": False}


def test_hint3_target_needs_in_scope_accuracy_and_no_lower_oos_recall() -> None:
    theirs = summary([0.7] * 3, [0.50, 0.50, 0.50], [0.40, 0.40, 0.40])
    met = judge("hint3_sofmattress", summary([0.7] * 3, [0.56] * 3, [0.40] * 3), theirs)
    assert met["met"] and met["difference_points"] == 6.0 and met["oos_recall_difference_points"] == 0.0
    assert not judge("hint3_sofmattress", summary([0.7] * 3, [0.60] * 3, [0.39] * 3), theirs)["met"]
    assert not judge("hint3_powerplay11", summary([0.7] * 3, [0.54] * 3, [0.90] * 3), theirs)["met"]


def test_quick_subset_keeps_a_few_rows_per_label() -> None:
    folds: dict[int, list[dict]] = {fold: [] for fold in range(20)}
    folds[0] = rows(["a"], 12) + rows(["b"], 12)
    folds[16] = rows(["a"], 6) + rows(None, 6)
    data = subset(nlupp_set("s", "en", folds), per_label=3, test_rows=4)
    assert [e.label for e in data.train] == ["a"] * 3 + ["b"] * 3
    assert len(data.test) == 4 and {e.label for e in data.test} == {"a", None}


def test_bench_config_seeds_our_classifier_without_epochs() -> None:
    ours = {
        "pipeline": [
            {"name": "bot.components.linear_intent_classifier.LinearIntentClassifier", "random_seed": 42},
            {"name": "FallbackClassifier", "threshold": 0.45, "ambiguity_threshold": 0.05},
        ],
    }
    quick = bench_config(base_pipeline(ours, {}), seed=3, language="tr", epochs=3)
    assert quick["pipeline"] == [
        {"name": "bot.components.linear_intent_classifier.LinearIntentClassifier", "random_seed": 3}
    ]


def test_the_cache_keeps_a_result_by_its_inputs_contents(tmp_path) -> None:
    from bench.nlu_external import cache_key, cached_runs, store_run

    for name, text in (("config.yml", "pipeline: []\n"), ("nlu.yml", "nlu: []\n"), ("test.json", '["hi"]')):
        (tmp_path / name).write_text(text)
    job = {
        "set": "s",
        "pipeline": "rasa_default",
        "seed": 1,
        "epochs": None,
        "language": "en",
        **{k: str(tmp_path / f) for k, f in (("config", "config.yml"), ("nlu", "nlu.yml"), ("test", "test.json"))},
        "work": "/anywhere",
    }
    ours = {**job, "pipeline": "ours"}
    cache = tmp_path / "cache"
    result = {"set": "s", "pipeline": "rasa_default", "seed": 1, "predictions": [["a", 0.9, None]]}
    store_run([job, ours], result, cache, {"rasa_default"})
    store_run([job, ours], {**result, "pipeline": "ours"}, cache, {"rasa_default"})  # not a cached pipeline
    assert cached_runs([job, ours], cache, {"rasa_default"}) == {0: {**result, "cached": True}}
    assert cache_key({**job, "work": "/elsewhere"}) == cache_key(job)  # paths are not inputs
    assert cache_key({**job, "seed": 2}) != cache_key(job)
    (tmp_path / "nlu.yml").write_text("nlu: [changed]\n")
    assert cached_runs([job], cache, {"rasa_default"}) == {}  # other data: trained again
    assert cached_runs([job], None, {"rasa_default"}) == {}
