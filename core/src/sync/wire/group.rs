//! Grouping changes by document. A message carries each document once, its changes together in
//! their order, so that a receiver reads a document's facts from one entry; the store building a
//! request, the server decoding one and the server building a reply all group the same way, here.

use std::collections::HashMap;
use std::hash::Hash;

/// Groups `(document, changes)` entries by document: one entry per document, in the order of each
/// document's first appearance, its changes in the order they came. A document that appears with no
/// changes keeps its entry. `D` is the document's name as text or as a parsed id: grouping by the
/// parsed id merges two spellings of one document.
pub fn group_by_doc<D, C>(entries: impl IntoIterator<Item = (D, Vec<C>)>) -> Vec<(D, Vec<C>)>
where
    D: Eq + Hash + Clone,
{
    let mut groups: Vec<(D, Vec<C>)> = Vec::new();
    let mut index: HashMap<D, usize> = HashMap::new();
    for (doc, changes) in entries {
        match index.get(&doc) {
            Some(&i) => groups[i].1.extend(changes),
            None => {
                index.insert(doc.clone(), groups.len());
                groups.push((doc, changes));
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::group_by_doc;

    #[test]
    fn documents_keep_their_first_appearance_and_changes_their_order() {
        let entries = vec![("b", vec![1]), ("a", vec![2]), ("b", vec![3, 4]), ("c", vec![]), ("a", vec![5])];
        assert_eq!(group_by_doc(entries), vec![("b", vec![1, 3, 4]), ("a", vec![2, 5]), ("c", vec![])]);
    }

    #[test]
    fn nothing_in_is_nothing_out() {
        assert!(group_by_doc(Vec::<(String, Vec<u8>)>::new()).is_empty());
    }
}
