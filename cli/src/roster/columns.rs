//! A secretary's roster, row by row: which column is which (Chinese or English headers), and what
//! each cell means — Excel gives dates as serial numbers or text in several shapes, ID numbers as
//! text or (mangled) numbers, relations as the words people use.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use gridbook_core::{CareTag, Gender, Registration, Relation, is_masked, normalize_phone, parse_id_number_on};

/// One cell as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// An Excel date cell, as its serial day number.
    Date(f64),
}

impl Cell {
    fn text(&self) -> Option<String> {
        let s = match self {
            Cell::Empty => return None,
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) | Cell::Date(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Cell::Number(n) | Cell::Date(n) => n.to_string(),
        };
        (!s.is_empty()).then_some(s)
    }
}

/// The columns, each with the headers it is known by (documented in cli/README.md).
pub const COLUMNS: &[(Column, &[&str])] = &[
    (Column::Grid, &["网格", "所属网格", "grid"]),
    (Column::Address, &["地址", "住址", "门牌", "门牌号", "address"]),
    (Column::Head, &["户主", "户主姓名", "head"]),
    (Column::Name, &["姓名", "name"]),
    (Column::IdNumber, &["身份证号", "身份证号码", "公民身份号码", "id_number", "id number"]),
    (Column::Gender, &["性别", "gender"]),
    (Column::Birth, &["出生日期", "出生年月", "birth_date", "birth date", "birth"]),
    (Column::Relation, &["与户主关系", "关系", "relation"]),
    (Column::Phone, &["联系电话", "电话", "手机", "手机号", "phone"]),
    (Column::Registration, &["户籍状态", "户籍类型", "人口类型", "registration"]),
    (Column::CareTags, &["关爱标签", "标签", "重点人群", "care_tags", "care tags"]),
    (Column::Notes, &["备注", "notes"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Grid,
    Address,
    Head,
    Name,
    IdNumber,
    Gender,
    Birth,
    Relation,
    Phone,
    Registration,
    CareTags,
    Notes,
}

/// Which file column holds which roster column.
#[derive(Debug, Clone)]
pub struct Header(Vec<(Column, usize)>);

impl Header {
    /// Reads the header row; the name and address columns are required.
    pub fn parse(cells: &[Cell]) -> Result<Self, String> {
        let mut found = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            let Some(text) = cell.text() else { continue };
            let key = text.trim_start_matches('\u{feff}').trim().to_lowercase();
            if let Some((column, _)) = COLUMNS.iter().find(|(_, names)| names.contains(&key.as_str())) {
                found.push((*column, i));
            }
        }
        let header = Self(found);
        for (column, name) in [(Column::Name, "姓名/name"), (Column::Address, "地址/address")] {
            if header.index(column).is_none() {
                return Err(format!("the header row has no {name} column"));
            }
        }
        Ok(header)
    }

    fn index(&self, column: Column) -> Option<usize> {
        self.0.iter().find(|(c, _)| *c == column).map(|(_, i)| *i)
    }

    fn get(&self, row: &[Cell], column: Column) -> Option<String> {
        self.index(column).and_then(|i| row.get(i)).and_then(Cell::text)
    }
}

/// An ID number or phone as a row gives it: in full (checked, in canonical form), or masked, as
/// an export without `--reveal` writes it. A masked one can only say "the number the ledger has".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Full(String),
    Masked(String),
}

impl Given {
    /// The full number, if the row gives one.
    pub fn full(&self) -> Option<&str> {
        match self {
            Given::Full(n) => Some(n),
            Given::Masked(_) => None,
        }
    }
}

/// One good row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub grid: Option<String>,
    pub address: String,
    pub head: Option<String>,
    pub name: String,
    /// The ID number in its canonical 18 characters, however the file wrote it, or masked.
    pub id_number: Option<Given>,
    /// The file gave the ID number in the 15 digits of a first-generation card.
    pub id_converted: bool,
    pub gender: Option<Gender>,
    pub birth: Option<NaiveDate>,
    pub relation: Relation,
    pub phone: Option<Given>,
    pub registration: Registration,
    pub care_tags: BTreeSet<CareTag>,
    pub notes: Option<String>,
}

pub fn is_blank(row: &[Cell]) -> bool {
    row.iter().all(|c| c.text().is_none())
}

/// Reads one data row, its ID number checked on the store's day `today`, or says what is wrong with
/// it (never echoing an ID number).
pub fn parse_row(header: &Header, cells: &[Cell], today: NaiveDate) -> Result<Row, String> {
    let name = header.get(cells, Column::Name).ok_or("the name is missing")?;
    let address = header.get(cells, Column::Address).ok_or("the address is missing")?;
    let id_number = match header.index(Column::IdNumber).and_then(|i| cells.get(i)) {
        Some(Cell::Number(_)) => {
            return Err("the ID number was stored as a number, which loses its last digits; \
                        format the column as text and enter it again"
                .into());
        }
        Some(cell) => cell.text(),
        None => None,
    };
    let (id_number, id_converted) = match id_number {
        Some(masked) if is_masked(&masked) => (Some(Given::Masked(masked)), false),
        Some(id) => {
            let info = parse_id_number_on(&id, today).map_err(|e| e.to_string())?;
            (Some(Given::Full(info.normalized)), info.converted_from_15)
        }
        None => (None, false),
    };
    let phone = match header.get(cells, Column::Phone) {
        Some(masked) if is_masked(&masked) => Some(Given::Masked(masked)),
        Some(p) => Some(Given::Full(normalize_phone(&p).map_err(|e| e.to_string())?)),
        None => None,
    };
    let gender = header.get(cells, Column::Gender).map(|g| gender(&g)).transpose()?;
    let birth = match header.index(Column::Birth).and_then(|i| cells.get(i)) {
        Some(Cell::Date(serial)) | Some(Cell::Number(serial)) => Some(excel_date(*serial)?),
        Some(cell) => cell.text().map(|t| date(&t)).transpose()?,
        None => None,
    };
    let relation = header.get(cells, Column::Relation).map(|r| relation(&r)).transpose()?.unwrap_or(Relation::Other);
    let registration = header
        .get(cells, Column::Registration)
        .map(|r| registration(&r))
        .transpose()?
        .unwrap_or(Registration::Registered);
    let care_tags = header.get(cells, Column::CareTags).map(|t| care_tags(&t)).transpose()?.unwrap_or_default();
    Ok(Row {
        grid: header.get(cells, Column::Grid),
        address,
        head: header.get(cells, Column::Head),
        name,
        id_converted,
        id_number,
        gender,
        birth,
        relation,
        phone,
        registration,
        care_tags,
        notes: header.get(cells, Column::Notes),
    })
}

fn excel_date(serial: f64) -> Result<NaiveDate, String> {
    // Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).ok_or("date base")?;
    if !(1.0..=2_958_465.0).contains(&serial) {
        return Err(format!("the birth date {serial} is not a date"));
    }
    Ok(base + Duration::days(serial.trunc() as i64))
}

fn date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim().replace(['年', '月'], "-").replace('日', "").replace(['/', '.'], "-");
    let t = t.split_whitespace().next().unwrap_or_default();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y%m%d"))
        .map_err(|_| format!("the birth date {text:?} is not a date (write it as 1950-03-07)"))
}

fn gender(text: &str) -> Result<Gender, String> {
    match text.trim().to_lowercase().as_str() {
        "男" | "m" | "male" => Ok(Gender::Male),
        "女" | "f" | "female" => Ok(Gender::Female),
        _ => Err(format!("the gender {text:?} is neither 男 nor 女")),
    }
}

pub fn relation(text: &str) -> Result<Relation, String> {
    Ok(match text.trim() {
        "户主" | "本人" => Relation::Head,
        "配偶" | "妻" | "妻子" | "夫" | "丈夫" => Relation::Spouse,
        "子" | "女" | "儿子" | "女儿" | "子女" | "长子" | "次子" | "长女" | "次女" => Relation::Child,
        "儿媳" | "女婿" => Relation::ChildInLaw,
        "父" | "母" | "父亲" | "母亲" | "父母" => Relation::Parent,
        "孙" | "孙子" | "孙女" | "外孙" | "外孙女" => Relation::Grandchild,
        "祖父" | "祖母" | "外祖父" | "外祖母" => Relation::Grandparent,
        "兄" | "弟" | "姐" | "妹" | "兄弟" | "姐妹" | "兄弟姐妹" => Relation::Sibling,
        "其他" => Relation::Other,
        other => other.parse().map_err(|_| format!("the relation {text:?} is not one the ledger knows"))?,
    })
}

pub fn relation_text(r: Relation) -> &'static str {
    match r {
        Relation::Head => "户主",
        Relation::Spouse => "配偶",
        Relation::Child => "子女",
        Relation::ChildInLaw => "儿媳",
        Relation::Parent => "父母",
        Relation::Grandchild => "孙子",
        Relation::Grandparent => "祖父",
        Relation::Sibling => "兄弟姐妹",
        Relation::Other => "其他",
    }
}

fn registration(text: &str) -> Result<Registration, String> {
    Ok(match text.trim() {
        "户籍" | "户籍人口" => Registration::Registered,
        "常住" | "常住人口" => Registration::Resident,
        "流动" | "流动人口" => Registration::Floating,
        other => other.parse().map_err(|_| format!("the registration status {text:?} is not 户籍, 常住 or 流动"))?,
    })
}

pub fn registration_text(r: Registration) -> &'static str {
    match r {
        Registration::Registered => "户籍",
        Registration::Resident => "常住",
        Registration::Floating => "流动",
    }
}

const TAGS: &[(CareTag, &[&str])] = &[
    (CareTag::LivingAlone, &["独居"]),
    (CareTag::Elderly, &["老年", "老人", "高龄"]),
    (CareTag::LowIncome, &["低保"]),
    (CareTag::Disability, &["残疾"]),
    (CareTag::LeftBehindChild, &["留守儿童"]),
    (CareTag::RentalHousing, &["租住", "租户"]),
];

fn care_tags(text: &str) -> Result<BTreeSet<CareTag>, String> {
    text.split([',', '，', '、', ';', '；', '/', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            TAGS.iter()
                .find(|(_, names)| names.contains(&t))
                .map(|(tag, _)| *tag)
                .or_else(|| t.parse().ok())
                .ok_or_else(|| format!("the care tag {t:?} is not one the ledger knows"))
        })
        .collect()
}

pub fn care_tags_text(tags: &BTreeSet<CareTag>) -> String {
    tags.iter()
        .map(|t| TAGS.iter().find(|(tag, _)| tag == t).map_or("", |(_, names)| names[0]))
        .collect::<Vec<_>>()
        .join("、")
}
