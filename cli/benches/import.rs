//! Importing a secretary's whole XLSX roster (as large as `roster()` below makes it) into a fresh store.
//!
//! `cargo bench -p gridbook-cli --bench import`

use criterion::{Criterion, criterion_group, criterion_main};
use gridbook_core::{NewGrid, Store, StoreConfig, id_check_char};

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &["建国", "秀英", "德顺", "桂兰", "志强", "玉珍", "海涛", "丽华", "俊杰", "淑芬"];

fn id_number(n: usize, male: bool) -> String {
    let birth = format!("19{:02}{:02}{:02}", 30 + n % 70, 1 + n % 12, 1 + n % 28);
    let order = (n % 499) * 2 + usize::from(male);
    let first17 = format!("330106{birth}{order:03}");
    let digits: [u8; 17] = first17.as_bytes().try_into().expect("17 digits");
    format!("{first17}{}", id_check_char(&digits))
}

fn roster(path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = ["地址", "姓名", "身份证号", "性别", "与户主关系", "联系电话", "户籍状态", "关爱标签"];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for n in 0..3000usize {
        let male = n % 2 == 0;
        let relation = ["户主", "配偶", "子女"][n % 3];
        let row = [
            format!("幸福村{}组{}号", n / 3 / 40 + 1, n / 3 % 40 + 1),
            format!("{}{}", SURNAMES[n % 10], GIVEN[n / 10 % 10]),
            id_number(n, male),
            if male { "男" } else { "女" }.to_string(),
            relation.to_string(),
            if n % 3 == 0 { format!("138{:08}", n) } else { String::new() },
            "户籍".to_string(),
            if n % 17 == 0 { "独居、老年".to_string() } else { String::new() },
        ];
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(n as u32 + 1, c as u16, v).expect("cell");
        }
    }
    book.save(path).expect("the roster is written");
}

fn import(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("roster.xlsx");
    roster(&file);
    c.bench_function("import a 3,000-resident XLSX roster", |b| {
        b.iter_with_setup(
            || {
                let store_dir = tempfile::tempdir().expect("dir");
                let store = Store::open(store_dir.path(), StoreConfig::new("刘敏", "pc")).expect("store");
                let grid = store
                    .create_grid(NewGrid {
                        name: "幸福村第一网格".into(),
                        village: "幸福村".into(),
                        ..Default::default()
                    })
                    .expect("grid");
                (store_dir, store, grid.id)
            },
            |(_dir, store, grid)| {
                let report = gridbook_cli::roster::import(&store, &file, Some(grid), false).expect("import");
                assert_eq!((report.residents_added, report.bad_rows.len()), (3000, 0));
            },
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = import
}
criterion_main!(benches);
