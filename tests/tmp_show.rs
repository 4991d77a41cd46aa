use mailvault::mox::bstore_encode::*;
fn unhex(s:&str)->Vec<u8>{ (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i+2],16).unwrap()).collect() }
#[test]
fn show(){
  let text=std::fs::read_to_string("/tmp/gx/dump.tsv").unwrap();
  let mut tv=None; let mut name=String::new(); let mut i=0;
  for line in text.lines(){
    let parts:Vec<&str>=line.split('\t').collect();
    if parts[0]=="T" { tv=Some(TypeVersion::parse(parts[2],parts[3]).unwrap()); name=format!("{}:{}",parts[1],parts[2]); i=0; continue }
    i+=1;
    let want = (name.contains("alice/index.db:Message") && (i==1 || i==150 || i==60)) || name.contains("queue/index.db:Msg") && i==1 || name.contains("alice/index.db:Mailbox") || name.contains("alice/index.db:Recipient")&&i<3 || name.contains("alice/index.db:Subscription") || name.contains("bob/index.db:Message") && i<3;
    if !want {continue}
    let r=decode_record(tv.as_ref().unwrap(),&unhex(parts[1]),&unhex(parts[2])).unwrap();
    println!("== {name}");
    for (k,v) in &r.fields { let s=match v { Value::Bytes(b)=>format!("Bytes({:?})",String::from_utf8_lossy(b)), v=>format!("{v:?}")}; println!("  {k}: {}", &s[..s.len().min(1500)]); }
  }
}
