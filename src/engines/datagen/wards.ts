// The 150 wards of the Greater Hyderabad Municipal Corporation (2016 delimitation, used in the 2016 and
// 2020 GHMC elections), numbered as GHMC numbers them. LokDarpan keys wards by NAME (`post.city`,
// `ward_profile.ward_id`); migration 005 loads this same list into the `ward` table so a ward number
// ("91") or a differently spelled name ("khairatabad ") resolves to the canonical name. A unit test
// checks that this module and the SQL in migrations/005 agree.

export interface Ward {
  readonly no: number;
  readonly name: string;
}

const NAMES: readonly string[] = [
  'Kapra', 'Dr. A.S. Rao Nagar', 'Cherlapally', 'Meerpet H.B. Colony', 'Mallapur',
  'Nacharam', 'Chilkanagar', 'Habsiguda', 'Ramanthapur', 'Uppal',
  'Nagole', 'Mansoorabad', 'Hayathnagar', 'B.N. Reddy Nagar', 'Vanasthalipuram',
  'Hastinapuram', 'Champapet', 'Lingojiguda', 'Saroornagar', 'R.K. Puram',
  'Kothapet', 'Chaitanyapuri', 'Gaddiannaram', 'Saidabad', 'Moosarambagh',
  'Old Malakpet', 'Akbarbagh', 'Azampura', 'Chawni', 'Dabeerpura',
  'Rein Bazar', 'Pathergatti', 'Moghalpura', 'Talabchanchalam', 'Gowlipura',
  'Lalithabagh', 'Kurmaguda', 'I.S. Sadan', 'Santoshnagar', 'Riyasathnagar',
  'Kanchanbagh', 'Barkas', 'Chandrayangutta', 'Uppuguda', 'Jangammet',
  'Falaknuma', 'Nawab Sahab Kunta', 'Shalibanda', 'Ghansi Bazar', 'Begum Bazar',
  'Goshamahal', 'Puranapul', 'Doodbowli', 'Jahanuma', 'Ramnastpura',
  'Kishanbagh', 'Suleman Nagar', 'Shastripuram', 'Mylardevpally', 'Rajendranagar',
  'Attapur', 'Ziaguda', 'Manghalhat', 'Dattathreya Nagar', 'Karwan',
  'Langar House', 'Golconda', 'Tolichowki', 'Nanalnagar', 'Mehdipatnam',
  'Gudimalkapur', 'Asif Nagar', 'Vijayanagar Colony', 'Ahmed Nagar', 'Red Hills',
  'Mallepally', 'Jambagh', 'Gunfoundry', 'Himayath Nagar', 'Kachiguda',
  'Nallakunta', 'Golnaka', 'Amberpet', 'Bagh Amberpet', 'Adikmet',
  'Musheerabad', 'Ramnagar', 'Bholakpur', 'Gandhinagar', 'Kavadiguda',
  'Khairatabad', 'Venkateshwara Colony', 'Banjara Hills', 'Shaikpet', 'Jubilee Hills',
  'Yousufguda', 'Somajiguda', 'Ameerpet', 'Vengal Rao Nagar', 'Sanath Nagar',
  'Erragadda', 'Rahmath Nagar', 'Borabanda', 'Kondapur', 'Gachibowli',
  'Serilingampally', 'Madhapur', 'Miyapur', 'Hafeezpet', 'Chandanagar',
  'Bharathi Nagar', 'Ramachandrapuram', 'Patancheru', 'KPHB Colony', 'Balaji Nagar',
  'Allapur', 'Moosapet', 'Fathenagar', 'Old Bowenpally', 'Balanagar',
  'Kukatpally', 'Vivekananda Nagar Colony', 'Hydernagar', 'Allwyn Colony', 'Gajularamaram',
  'Jagadgiri Gutta', 'Rangareddy Nagar', 'Chintal', 'Suraram', 'Subhash Nagar',
  'Quthbullapur', 'Jeedimetla', 'Macha Bollaram', 'Alwal', 'Venkatapuram',
  'Neredmet', 'Vinayak Nagar', 'Moula Ali', 'East Anandbagh', 'Malkajgiri',
  'Gautham Nagar', 'Addagutta', 'Tarnaka', 'Mettuguda', 'Sitaphalmandi',
  'Boudha Nagar', 'Bansilalpet', 'Ramgopalpet', 'Begumpet', 'Monda Market',
];

export const GHMC_WARDS: readonly Ward[] = Object.freeze(NAMES.map((name, i) => Object.freeze({ no: i + 1, name })));

/** The key migration 005's `lokdarpan_ward_key(text)` computes: trimmed, lower case, single spaces. */
export function wardKey(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** The canonical ward for a number ("91"), a name in any case/spacing, or "Ward 91 Khairatabad". */
export function findWard(nameOrNumber: string): Ward | undefined {
  const raw = nameOrNumber.trim();
  const geo = /^ward\s+(\d{1,3})\b/i.exec(raw);
  const digits = /^\d{1,3}$/.test(raw) ? raw : geo?.[1];
  if (digits !== undefined) return GHMC_WARDS[Number(digits) - 1];
  const key = wardKey(raw);
  return GHMC_WARDS.find((w) => wardKey(w.name) === key);
}
