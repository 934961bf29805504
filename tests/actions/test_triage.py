from support_rules.triage import prefill, read_answer, read_mentions


def test_answer_to_each_question(rules) -> None:
    assert read_answer("topic", "para cekme", rules).value == "withdrawal"
    assert read_answer("transaction_type", "withdrawl", rules).value == "withdrawal"
    assert read_answer("transaction_date", "dün", rules).value == "2026-11-21"
    assert read_answer("username", "ayse_k", rules).value == "ayse_k"


def test_unreadable_answers_say_why(rules) -> None:
    assert read_answer("topic", "asdfgh", rules).error == "unknown_topic"
    assert read_answer("transaction_type", "asdfgh", rules).error == "unknown_transaction_type"
    assert read_answer("transaction_date", "yarın", rules).error == "unparsed"
    assert read_answer("transaction_date", "31.02.2026", rules).error == "invalid"
    assert read_answer("transaction_date", "30.11.2026", rules).error == "future"
    assert read_answer("transaction_date", "01.01.2024", rules).error == "too_old"
    assert read_answer("username", "bu benim adım değil", rules).error == "invalid_username"


def test_every_value_in_a_first_message(rules) -> None:
    found = read_mentions("dün yaptığım para çekme hala gelmedi, kullanıcı adım ayse_k", rules)
    assert found == {
        "topic": "withdrawal",
        "transaction_type": "withdrawal",
        "transaction_date": "2026-11-21",
        "username": "ayse_k",
    }


def test_english_first_message(rules) -> None:
    found = read_mentions("my bet from last friday was settled wrong, username is mark_77", rules)
    assert found["topic"] == "bet_settlement"
    assert found["transaction_type"] == "bet"
    assert found["transaction_date"] == "2026-11-20"
    assert found["username"] == "mark_77"


def test_nothing_is_invented(rules) -> None:
    assert read_mentions("merhaba, bir sorunum var", rules) == {}


def test_prefill_takes_the_topic_of_an_unhelpful_faq_and_the_earliest_values(rules) -> None:
    values = prefill(["3 gün önce para yatırdım", "dün tekrar denedim"], ["deposit_missing"], rules)
    assert values["topic"] == "deposit"
    assert values["transaction_type"] == "deposit"
    assert values["transaction_date"] == "2026-11-19"
    assert "username" not in values
