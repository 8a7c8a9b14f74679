//! The demo village's vocabulary — common surnames and given names, departments, event categories,
//! visit purposes — and the people drawn from it, with ID numbers that validate.

use chrono::NaiveDate;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::{Gender, id_check_char};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗",
];
const MALE: &[&str] = &["建国", "德顺", "志强", "国庆", "海涛", "俊杰", "宏伟", "文斌", "永福", "子轩", "浩然", "明"];
const FEMALE: &[&str] = &["秀英", "桂兰", "玉珍", "丽华", "淑芬", "美玲", "晓燕", "静", "婷婷", "欣怡", "雨涵", "芳"];
pub(super) const DEPARTMENTS: &[&str] = &["市政维修", "社区卫生服务中心", "供电所", "城管中队", "自来水公司", "派出所"];
pub(super) const CATEGORIES: &[(&str, &str)] = &[
    ("市政设施", "路灯不亮"),
    ("环境卫生", "垃圾堆放未清运"),
    ("安全隐患", "楼道电线老化"),
    ("邻里纠纷", "噪音扰民"),
    ("市政设施", "下水道堵塞"),
    ("安全隐患", "电动车楼道充电"),
];
pub(super) const PURPOSES: &[&str] = &["安全检查", "反诈宣传", "防溺水宣传", "政策宣传", "健康随访", "人口信息核实"];

/// A full name: a surname and a given name for the gender.
pub(super) fn person(rng: &mut StdRng, gender: Gender) -> String {
    let surname = SURNAMES.choose(rng).copied().unwrap_or("王");
    let given = if gender == Gender::Male { MALE } else { FEMALE };
    format!("{surname}{}", given.choose(rng).copied().unwrap_or("明"))
}

/// An 18-digit ID number for the birth date and gender, with its check character.
pub(super) fn id_number(rng: &mut StdRng, birth: NaiveDate, gender: Gender) -> String {
    let region = ["330106", "330108", "330110"].choose(rng).copied().unwrap_or("330106");
    let order = rng.random_range(0..50u32) * 2 + u32::from(gender == Gender::Male);
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), order * 10 % 1000 + order % 10);
    // Built from digits only, so the conversion holds.
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap_or([b'0'; 17]);
    format!("{first17}{}", id_check_char(&digits))
}

/// A birth date in the years `from..=to`.
pub(super) fn birth(rng: &mut StdRng, from: i32, to: i32) -> NaiveDate {
    let year = rng.random_range(from..=to);
    NaiveDate::from_yo_opt(year, rng.random_range(1..=365)).unwrap_or_default()
}
