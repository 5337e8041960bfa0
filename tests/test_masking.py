from core.masking import mask_personal_data


def test_id_card_and_mobile_numbers_are_masked():
    text = "我的身份证是110101199003071234，手机13812345678，申请号SQ20261102001"
    masked = mask_personal_data(text)
    assert "110101********1234" in masked
    assert "138****5678" in masked
    assert "199003071234" not in masked and "13812345678" not in masked
    assert "SQ20261102001" in masked  # application numbers are not personal data


def test_id_card_with_x_checksum():
    assert mask_personal_data("11010119900307123X") == "110101********123X"
