/**
 * Common English words: the spelling fixer (fix-spellings.ts) leaves a word that is one of these alone unless
 * it is closer to a vocabulary term by a clear margin, since a real word heard as itself is far more likely
 * than a near miss of a term ("cloud" is not "Claude"). The most frequent words of everyday and business
 * speech; short on purpose: the fixer's distance thresholds already keep words under five letters exact.
 */
const WORDS = `
a about above across act action actually add after again against age ago agree ahead air all allow almost alone
along already also although always am among amount an and another answer any anyone anything appear apply april
are area arm around art as ask at august away back bad bag bank base be bear beat became because become bed been
before began begin behind being believe below best better between big bill bit black blue board boat body book
born both box boy break bring brother brown budget build building business but buy by call came can cannot car
card care carry case cat catch cause cell center certain chair chance change charge check child choose church
city claim class clean clear close cloud coffee cold college color come common company contract control cost
could country couple course court cover create cross cup current customer cut dark data date daughter day dead
deal dear death december decide deep design detail develop did die difference different dinner direction do
doctor does dog done door down draw dream drive drop during each early east easy eat economy edge effect eight
either else email end enough enter even evening event ever every everyone everything exactly example expect
experience explain eye face fact fall family far fast father fear feature february feel few field fight figure
file fill film final finally find fine finger finish fire firm first fish five floor fly follow food foot for
force form forward four free friday friend from front full fund future game garden gas gave general get girl
give glass go god good got government great green ground group grow growth guess gun guy hair half hand hang
happen happy hard has have he head health hear heard heart heat heavy hello help her here herself high him
himself his history hit hold home hope hot hotel hour house how however huge human hundred husband idea if
image important in include increase industry information inside instead interest into issue it item its itself
january job join july june just keep key kid kill kind kitchen knew know known land language large last late
later laugh law lawyer lay lead learn least leave left leg less let letter level lie life light like likely
line list listen little live local long look lose loss lot love low machine made main major make man manage
manager many march market matter may maybe me mean measure media meet meeting member memory men mention message
method middle might mile million mind minute miss model moment monday money month more morning most mother
move movie much music must my myself name nation nature near need network never new news next nice night nine
no none nor north not note nothing notice november now number occur october of off offer office officer often
oh oil ok okay old on once one only open or order other our out outside over own owner page pain paper parent
part partner party pass past patient pay people per perhaps period person phone pick picture piece place plan
plant play player please point police policy poor position possible power practice prepare present president
pretty price private probably problem process produce product program project provide public pull put quarter
question quickly quite race radio raise range rate rather reach read ready real really reason receive recent
record red reduce release remain remember report rest result return review rich right risk road rock role room
rule run safe said sale sales same saturday save saw say scene school screen sea season seat second see seem
sell send sense september serve server service set seven several shake share she short should show side sign
simple since sing single sister sit six size skill slide small smile so social some someone something sometimes
son song soon sorry sort sound south space speak special spend sport spring staff stage stand start state stay
step still stock stop store story street strong student study stuff style subject success such suddenly summer
sunday support sure system table take talk target task tax teach teacher team tell ten term test than thank
thanks that the their them themselves then there these they thing think third this those though thought three
through thursday time to today together told tomorrow tonight too top total tough toward town trade travel
treat tree trial trip trouble true truth try tuesday turn two type under understand unit until up update upon
us use usually value version very view visit voice vote wait walk wall want war watch water way we weak wear
wednesday week weekend weight well went were west what whatever when where whether which while white who whole
whom whose why wide wife will win wind window wish with within without woman wonder word work worker world
worry would write wrong yard yeah year yes yet you young your yourself
`;

export const COMMON_WORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter((w) => w.length > 0));
