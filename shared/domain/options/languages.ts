/**
 * ISO 639-1 language codes with their English names. Providers answer with
 * either ("en" or "english", Whisper's verbose_json uses names), callers send codes.
 */
const ISO_639_1_TABLE =
  "aa:Afar|ab:Abkhazian|ae:Avestan|af:Afrikaans|ak:Akan|am:Amharic|an:Aragonese|ar:Arabic|" +
  "as:Assamese|av:Avaric|ay:Aymara|az:Azerbaijani|ba:Bashkir|be:Belarusian|bg:Bulgarian|" +
  "bi:Bislama|bm:Bambara|bn:Bengali|bo:Tibetan|br:Breton|bs:Bosnian|ca:Catalan|ce:Chechen|" +
  "ch:Chamorro|co:Corsican|cr:Cree|cs:Czech|cu:Church Slavic|cv:Chuvash|cy:Welsh|da:Danish|" +
  "de:German|dv:Divehi|dz:Dzongkha|ee:Ewe|el:Greek|en:English|eo:Esperanto|es:Spanish|" +
  "et:Estonian|eu:Basque|fa:Persian|ff:Fulah|fi:Finnish|fj:Fijian|fo:Faroese|fr:French|" +
  "fy:Western Frisian|ga:Irish|gd:Scottish Gaelic|gl:Galician|gn:Guarani|gu:Gujarati|gv:Manx|" +
  "ha:Hausa|he:Hebrew|hi:Hindi|ho:Hiri Motu|hr:Croatian|ht:Haitian|hu:Hungarian|hy:Armenian|" +
  "hz:Herero|ia:Interlingua|id:Indonesian|ie:Interlingue|ig:Igbo|ii:Sichuan Yi|ik:Inupiaq|" +
  "io:Ido|is:Icelandic|it:Italian|iu:Inuktitut|ja:Japanese|jv:Javanese|ka:Georgian|kg:Kongo|" +
  "ki:Kikuyu|kj:Kuanyama|kk:Kazakh|kl:Kalaallisut|km:Khmer|kn:Kannada|ko:Korean|kr:Kanuri|" +
  "ks:Kashmiri|ku:Kurdish|kv:Komi|kw:Cornish|ky:Kyrgyz|la:Latin|lb:Luxembourgish|lg:Ganda|" +
  "li:Limburgish|ln:Lingala|lo:Lao|lt:Lithuanian|lu:Luba-Katanga|lv:Latvian|mg:Malagasy|" +
  "mh:Marshallese|mi:Maori|mk:Macedonian|ml:Malayalam|mn:Mongolian|mr:Marathi|ms:Malay|" +
  "mt:Maltese|my:Burmese|na:Nauru|nb:Norwegian Bokmal|nd:North Ndebele|ne:Nepali|ng:Ndonga|" +
  "nl:Dutch|nn:Norwegian Nynorsk|no:Norwegian|nr:South Ndebele|nv:Navajo|ny:Chichewa|" +
  "oc:Occitan|oj:Ojibwa|om:Oromo|or:Oriya|os:Ossetian|pa:Punjabi|pi:Pali|pl:Polish|ps:Pashto|" +
  "pt:Portuguese|qu:Quechua|rm:Romansh|rn:Rundi|ro:Romanian|ru:Russian|rw:Kinyarwanda|" +
  "sa:Sanskrit|sc:Sardinian|sd:Sindhi|se:Northern Sami|sg:Sango|si:Sinhala|sk:Slovak|" +
  "sl:Slovenian|sm:Samoan|sn:Shona|so:Somali|sq:Albanian|sr:Serbian|ss:Swati|st:Southern Sotho|" +
  "su:Sundanese|sv:Swedish|sw:Swahili|ta:Tamil|te:Telugu|tg:Tajik|th:Thai|ti:Tigrinya|" +
  "tk:Turkmen|tl:Tagalog|tn:Tswana|to:Tonga|tr:Turkish|ts:Tsonga|tt:Tatar|tw:Twi|ty:Tahitian|" +
  "ug:Uyghur|uk:Ukrainian|ur:Urdu|uz:Uzbek|ve:Venda|vi:Vietnamese|vo:Volapuk|wa:Walloon|" +
  "wo:Wolof|xh:Xhosa|yi:Yiddish|yo:Yoruba|za:Zhuang|zh:Chinese|zu:Zulu";

/** Every ISO 639-1 code, mapped to its English name. */
export const ISO_639_1: ReadonlyMap<string, string> = new Map(
  ISO_639_1_TABLE.split("|").map((entry) => {
    const [code, name] = entry.split(":");
    return [code, name] as const;
  }),
);

/** Other names Whisper and friends use for the same languages. */
const ALIASES: Record<string, string> = {
  valencian: "ca", flemish: "nl", "haitian creole": "ht", letzeburgesch: "lb",
  moldavian: "ro", moldovan: "ro", castilian: "es", pushto: "ps", panjabi: "pa",
  sinhalese: "si", myanmar: "my", mandarin: "zh", bangla: "bn", farsi: "fa",
  kirghiz: "ky", uighur: "ug", dhivehi: "dv", maldivian: "dv", gaelic: "gd",
  greenlandic: "kl", ossetic: "os", chewa: "ny", nyanja: "ny", bokmal: "nb",
  nynorsk: "nn", slovene: "sl", filipino: "tl", "modern greek": "el",
};

const BY_NAME: ReadonlyMap<string, string> = new Map([
  ...[...ISO_639_1].map(([code, name]) => [name.toLowerCase(), code] as const),
  ...Object.entries(ALIASES),
]);

/** What a caller sends to let the model detect the language itself (S3 metadata, CLI, realtime sessions). */
export const AUTO_LANGUAGE = "auto";

/** The rule for a requested language (S3 metadata, the CLI): "auto" or an ISO 639-1 code, lowercase. */
export function isLanguageChoice(value: string): boolean {
  return value === AUTO_LANGUAGE || ISO_639_1.has(value);
}

/**
 * The language a caller named, or undefined for "auto" (or none): what a provider request or a job's
 * metadata should carry, so that the model detects the language when it is not named.
 */
export function explicitLanguage(language: string | undefined): string | undefined {
  return language && language !== AUTO_LANGUAGE ? language : undefined;
}

/**
 * The ISO 639-1 code for a code, a regional tag ("en-US") or an English
 * language name ("English"); null when it is none of those.
 */
export function normalizeLanguage(input: string): string | null {
  const folded = input.normalize("NFD").replace(/\p{M}/gu, "").trim().toLowerCase();
  const primary = folded.split(/[-_]/)[0];
  if (ISO_639_1.has(primary)) return primary;
  return BY_NAME.get(folded) ?? null;
}
