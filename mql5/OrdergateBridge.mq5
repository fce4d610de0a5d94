//+------------------------------------------------------------------+
//| OrdergateBridge.mq5                                              |
//|                                                                  |
//| ordergate's MetaTrader 5 bridge: an expert advisor that speaks   |
//| the bridge protocol, version 1, over ZeroMQ. The contract is     |
//| docs/mt5-bridge.md; every frame written here is meant to         |
//| validate against                                                 |
//| src/ordergate/protocols/mt5/bridge-v1.schema.json.               |
//+------------------------------------------------------------------+
//
// What it is
// ----------
// - A REP socket (default tcp://*:8866) answers commands: one JSON
//   frame in, one JSON frame out, the reply echoing `req_id`.
// - A PUB socket (default tcp://*:8867) publishes events as two
//   frames, [topic, object], the topic being `evt.<type>`. Events are
//   numbered 1, 2, 3 ... in each session (a new session at every
//   OnInit); the last `InpRingSize` are kept for `events_since`. A
//   heartbeat, unnumbered, carries the last event's number.
// - Commands that change state are idempotent by the client's order
//   id: the map client order id -> ticket is appended to
//   MQL5/Files/ordergate/<login>-ids.jsonl, and flushed, before
//   anything is sent, and read back at every start.
// - Orders are sent with the synchronous OrderSend, so a reply carries
//   the trade server's decision. Fills come from
//   TRADE_TRANSACTION_DEAL_ADD, each deal once.
// - Prices, volumes and money are JSON strings (the symbol's digits,
//   the volume step's decimals, 2 decimals for money); tickets and
//   times are integers; times are milliseconds in the trade server's
//   clock (hello gives gmt_offset_s = TimeTradeServer() - TimeGMT()).
//
// Status
// ------
// This file cannot be compiled or run on ordergate's build machines
// (there is no Windows terminal there), so it is held to
// docs/mt5-bridge.md and the schema by review; the tests cannot check
// it. The EA simulator (`ordergate simulate mt5`) speaks the same
// protocol and stands in for it in the tests. The source is written
// against the dingmaotu `mql-zmq` binding
// (https://github.com/dingmaotu/mql-zmq: Context, Socket, ZmqMsg) and
// has not been compiled.
//
// Installation
// ------------
// 1. Copy this file to <data folder>/MQL5/Experts/ and compile it in
//    MetaEditor.
// 2. Copy the mql-zmq headers: its Include/Zmq folder to
//    MQL5/Include/Zmq and its Include/Mql folder to MQL5/Include/Mql.
// 3. Copy libzmq.dll and libsodium.dll (the 64-bit builds, from the
//    binding's Library/MT5 folder) to MQL5/Libraries.
// 4. Tools > Options > Expert Advisors: allow algorithmic trading and
//    DLL imports (or tick "Allow DLL imports" in the EA's dialog).
// 5. Attach the EA to any chart (one instance per terminal: it binds
//    fixed ports). The chart's symbol does not matter.
//
// Settings
// --------
// InpRepEndpoint            REP endpoint bound for commands.
// InpPubEndpoint            PUB endpoint bound for events.
// InpRingSize               events kept for events_since (`ring`).
// InpHeartbeatMs            heartbeat period, in milliseconds.
// InpAccountSnapshotSeconds period of the unconditional `account`
//                           event (and of the sweep that publishes any
//                           deal whose DEAL_ADD was missed).
// InpDefaultDeviation       slippage, in points, of a market order or
//                           a close that names no `deviation`.
// InpDefaultMagic           magic number of an order that names none.
// InpTimerMs                the timer that serves requests, in ms.
//+------------------------------------------------------------------+
#property copyright   "ordergate"
#property link        "https://github.com/ordergate/ordergate"
#property version     "1.00"
#property description "ordergate MT5 bridge, protocol version 1 (docs/mt5-bridge.md): REP commands and PUB events over ZeroMQ."

#include <Zmq/Zmq.mqh>
#include <Generic\HashMap.mqh>
#include <Generic\HashSet.mqh>

//--- settings
input string InpRepEndpoint            = "tcp://*:8866"; // REP endpoint (commands)
input string InpPubEndpoint            = "tcp://*:8867"; // PUB endpoint (events)
input int    InpRingSize               = 4096;           // events kept for events_since
input int    InpHeartbeatMs            = 1000;           // heartbeat period, ms
input int    InpAccountSnapshotSeconds = 10;             // account snapshot period, s
input int    InpDefaultDeviation       = 10;             // default deviation, points
input long   InpDefaultMagic           = 0;              // default magic number
input int    InpTimerMs                = 10;             // timer period, ms

//--- constants of the protocol
#define OG_VERSION          1
#define OG_EA_NAME          "OrdergateBridge 1.0"
#define OG_ID_DIR           "ordergate"
#define OG_ID_COMPACT_AFTER 10000
#define OG_ID_KEEP_MS       604800000 // 7 days
#define OG_MAX_REQUESTS     16        // requests served per timer event at most
#define OG_RETRY_MS         10000     // how long a deal or a final order is looked for
#define OG_JSON_DEPTH       64

//+------------------------------------------------------------------+
//| 2. JSON                                                          |
//|                                                                  |
//| A small value tree: null, bool, number (kept as its text, so no  |
//| double rounds it), string, array, object (keys in insertion      |
//| order), and raw (an already serialized value, written verbatim:  |
//| the ring's events). A parent owns its children.                  |
//+------------------------------------------------------------------+
enum JKind
  {
   JK_NULL,
   JK_BOOL,
   JK_NUM,
   JK_STR,
   JK_ARR,
   JK_OBJ,
   JK_RAW
  };

class JValue
  {
public:
   JKind             kind;
   bool              flag;        // JK_BOOL
   string            text;        // JK_STR value, JK_NUM text, JK_RAW json
   string            keys[];      // JK_OBJ keys
   JValue           *items[];     // JK_OBJ values, JK_ARR items
   int               count;

                     JValue(void) { kind=JK_NULL; flag=false; text=""; count=0; }
                    ~JValue(void) { Clear(); }

   void              Clear(void)
     {
      for(int i=0;i<count;i++)
         if(CheckPointer(items[i])==POINTER_DYNAMIC)
            delete items[i];
      ArrayResize(items,0);
      ArrayResize(keys,0);
      count=0;
     }

   //--- an object's member, or NULL
   int               IndexOf(const string key) const
     {
      for(int i=0;i<count;i++)
         if(keys[i]==key)
            return i;
      return -1;
     }
   bool              Has(const string key) const { return kind==JK_OBJ && IndexOf(key)>=0; }
   JValue           *Get(const string key)
     {
      if(kind!=JK_OBJ)
         return NULL;
      int i=IndexOf(key);
      if(i<0)
         return NULL;
      return items[i];
     }

   //--- set an object's member (replacing one of the same key, in place); takes ownership
   JValue           *Set(const string key,JValue *value)
     {
      int i=IndexOf(key);
      if(i>=0)
        {
         if(CheckPointer(items[i])==POINTER_DYNAMIC && items[i]!=value)
            delete items[i];
         items[i]=value;
         return GetPointer(this);
        }
      ArrayResize(keys,count+1,16);
      ArrayResize(items,count+1,16);
      keys[count]=key;
      items[count]=value;
      count++;
      return GetPointer(this);
     }

   //--- remove an object's member
   void              Remove(const string key)
     {
      int i=IndexOf(key);
      if(i<0)
         return;
      if(CheckPointer(items[i])==POINTER_DYNAMIC)
         delete items[i];
      for(int j=i;j<count-1;j++)
        {
         keys[j]=keys[j+1];
         items[j]=items[j+1];
        }
      count--;
      ArrayResize(keys,count);
      ArrayResize(items,count);
     }

   //--- append to an array; takes ownership
   JValue           *Add(JValue *value)
     {
      ArrayResize(items,count+1,16);
      ArrayResize(keys,count+1,16);
      keys[count]="";
      items[count]=value;
      count++;
      return GetPointer(this);
     }

   int               Size(void) const { return count; }
   JValue           *At(const int i) { if(i<0 || i>=count) return NULL; return items[i]; }

   bool              IsNull(void) const   { return kind==JK_NULL; }
   bool              IsString(void) const { return kind==JK_STR; }
   bool              IsNumber(void) const { return kind==JK_NUM; }
   bool              IsBool(void) const   { return kind==JK_BOOL; }
   bool              IsArray(void) const  { return kind==JK_ARR; }
   bool              IsObject(void) const { return kind==JK_OBJ; }

   //--- a number without fraction or exponent
   bool              IsInteger(void) const
     {
      if(kind!=JK_NUM)
         return false;
      return StringFind(text,".")<0 && StringFind(text,"e")<0 && StringFind(text,"E")<0;
     }
   long              AsLong(void) const { return StringToInteger(text); }

   JValue           *Clone(void)
     {
      JValue *c=new JValue();
      c.kind=kind;
      c.flag=flag;
      c.text=text;
      for(int i=0;i<count;i++)
        {
         JValue *child=(CheckPointer(items[i])!=POINTER_INVALID) ? items[i].Clone() : new JValue();
         if(kind==JK_OBJ)
            c.Set(keys[i],child);
         else
            c.Add(child);
        }
      return c;
     }

   void              Write(string &out);
   string            Serialize(void) { string out=""; Write(out); return out; }
  };

//--- a string as a JSON string literal, escaped
string JEscape(const string s)
  {
   string out="\"";
   int n=StringLen(s);
   int start=0;
   for(int i=0;i<n;i++)
     {
      ushort c=StringGetCharacter(s,i);
      string rep;
      if(c=='"')
         rep="\\\"";
      else if(c=='\\')
         rep="\\\\";
      else if(c=='\n')
         rep="\\n";
      else if(c=='\r')
         rep="\\r";
      else if(c=='\t')
         rep="\\t";
      else if(c==8)
         rep="\\b";
      else if(c==12)
         rep="\\f";
      else if(c<0x20 || c==0x2028 || c==0x2029)
         rep=StringFormat("\\u%04x",(int)c);
      else
         continue;
      if(i>start)
         StringAdd(out,StringSubstr(s,start,i-start));
      StringAdd(out,rep);
      start=i+1;
     }
   if(n>start)
      StringAdd(out,StringSubstr(s,start,n-start));
   StringAdd(out,"\"");
   return out;
  }

void JValue::Write(string &out)
  {
   switch(kind)
     {
      case JK_NULL:
         StringAdd(out,"null");
         break;
      case JK_BOOL:
         StringAdd(out,flag ? "true" : "false");
         break;
      case JK_NUM:
      case JK_RAW:
         StringAdd(out,text);
         break;
      case JK_STR:
         StringAdd(out,JEscape(text));
         break;
      case JK_ARR:
        {
         StringAdd(out,"[");
         for(int i=0;i<count;i++)
           {
            if(i>0)
               StringAdd(out,",");
            if(CheckPointer(items[i])==POINTER_INVALID)
               StringAdd(out,"null");
            else
               items[i].Write(out);
           }
         StringAdd(out,"]");
         break;
        }
      case JK_OBJ:
        {
         StringAdd(out,"{");
         for(int i=0;i<count;i++)
           {
            if(i>0)
               StringAdd(out,",");
            StringAdd(out,JEscape(keys[i]));
            StringAdd(out,":");
            if(CheckPointer(items[i])==POINTER_INVALID)
               StringAdd(out,"null");
            else
               items[i].Write(out);
           }
         StringAdd(out,"}");
         break;
        }
     }
  }

//--- constructors of values
JValue *JNull(void)              { return new JValue(); }
JValue *JBool(const bool b)      { JValue *v=new JValue(); v.kind=JK_BOOL; v.flag=b; return v; }
JValue *JInt(const long n)       { JValue *v=new JValue(); v.kind=JK_NUM; v.text=IntegerToString(n); return v; }
JValue *JNumText(const string t) { JValue *v=new JValue(); v.kind=JK_NUM; v.text=t; return v; }
JValue *JStr(const string s)     { JValue *v=new JValue(); v.kind=JK_STR; v.text=s; return v; }
JValue *JRaw(const string json)  { JValue *v=new JValue(); v.kind=JK_RAW; v.text=json; return v; }
JValue *JArr(void)               { JValue *v=new JValue(); v.kind=JK_ARR; return v; }
JValue *JObj(void)               { JValue *v=new JValue(); v.kind=JK_OBJ; return v; }
//--- a ticket, or null for 0 (MT5's "none")
JValue *JTicket(const ulong t)   { return t==0 ? JNull() : JInt((long)t); }
//--- a time in ms, or null for 0
JValue *JMsOrNull(const long ms) { return ms<=0 ? JNull() : JInt(ms); }
//--- a string, or null when empty
JValue *JStrOrNull(const string s) { return s=="" ? JNull() : JStr(s); }

//+------------------------------------------------------------------+
//| The parser: RFC 8259 JSON, enough for any request. Strings may   |
//| carry every escape, \uXXXX included (surrogate pairs stay two    |
//| UTF-16 units, which is what an MQL5 string holds).               |
//+------------------------------------------------------------------+
class JParser
  {
private:
   string            m_s;
   int               m_n;
   int               m_pos;
   string            m_error;

   void              SkipSpace(void)
     {
      while(m_pos<m_n)
        {
         ushort c=StringGetCharacter(m_s,m_pos);
         if(c==' ' || c=='\t' || c=='\n' || c=='\r')
            m_pos++;
         else
            break;
        }
     }
   bool              Fail(const string why)
     {
      if(m_error=="")
         m_error=why+" at offset "+IntegerToString(m_pos);
      return false;
     }
   bool              IsDigit(const ushort c) const { return c>='0' && c<='9'; }
   int               HexValue(const ushort c) const
     {
      if(c>='0' && c<='9')
         return c-'0';
      if(c>='a' && c<='f')
         return c-'a'+10;
      if(c>='A' && c<='F')
         return c-'A'+10;
      return -1;
     }
   bool              Literal(const string word)
     {
      int len=StringLen(word);
      if(m_pos+len>m_n || StringSubstr(m_s,m_pos,len)!=word)
         return Fail("bad literal");
      m_pos+=len;
      return true;
     }
   bool              ParseString(string &out);
   bool              ParseNumber(string &out);
   JValue           *ParseValue(const int depth);

public:
   JValue           *Parse(const string text)
     {
      m_s=text;
      m_n=StringLen(text);
      m_pos=0;
      m_error="";
      //--- a byte-order mark is not allowed by the protocol, but costs nothing to skip
      if(m_n>0 && StringGetCharacter(m_s,0)==0xFEFF)
         m_pos=1;
      JValue *v=ParseValue(0);
      if(v==NULL)
         return NULL;
      SkipSpace();
      if(m_pos<m_n)
        {
         delete v;
         Fail("trailing characters");
         return NULL;
        }
      return v;
     }
   string            Error(void) const { return m_error; }
  };

bool JParser::ParseString(string &out)
  {
   //--- m_s[m_pos] is the opening quote
   m_pos++;
   out="";
   int start=m_pos;
   while(m_pos<m_n)
     {
      ushort c=StringGetCharacter(m_s,m_pos);
      if(c=='"')
        {
         if(m_pos>start)
            StringAdd(out,StringSubstr(m_s,start,m_pos-start));
         m_pos++;
         return true;
        }
      if(c<0x20)
         return Fail("control character in a string");
      if(c!='\\')
        {
         m_pos++;
         continue;
        }
      if(m_pos>start)
         StringAdd(out,StringSubstr(m_s,start,m_pos-start));
      m_pos++;
      if(m_pos>=m_n)
         return Fail("unfinished escape");
      ushort e=StringGetCharacter(m_s,m_pos);
      m_pos++;
      switch(e)
        {
         case '"':
            StringAdd(out,"\"");
            break;
         case '\\':
            StringAdd(out,"\\");
            break;
         case '/':
            StringAdd(out,"/");
            break;
         case 'b':
            StringAdd(out,ShortToString(8));
            break;
         case 'f':
            StringAdd(out,ShortToString(12));
            break;
         case 'n':
            StringAdd(out,"\n");
            break;
         case 'r':
            StringAdd(out,"\r");
            break;
         case 't':
            StringAdd(out,"\t");
            break;
         case 'u':
           {
            if(m_pos+4>m_n)
               return Fail("short \\u escape");
            int code=0;
            for(int k=0;k<4;k++)
              {
               int h=HexValue(StringGetCharacter(m_s,m_pos+k));
               if(h<0)
                  return Fail("bad \\u escape");
               code=code*16+h;
              }
            m_pos+=4;
            if(code==0)
               return Fail("NUL in a string");
            StringAdd(out,ShortToString((ushort)code));
            break;
           }
         default:
            return Fail("bad escape");
        }
      start=m_pos;
     }
   return Fail("unterminated string");
  }

bool JParser::ParseNumber(string &out)
  {
   int start=m_pos;
   if(m_pos<m_n && StringGetCharacter(m_s,m_pos)=='-')
      m_pos++;
   if(m_pos>=m_n)
      return Fail("bad number");
   ushort c=StringGetCharacter(m_s,m_pos);
   if(c=='0')
      m_pos++;
   else if(c>='1' && c<='9')
     {
      while(m_pos<m_n && IsDigit(StringGetCharacter(m_s,m_pos)))
         m_pos++;
     }
   else
      return Fail("bad number");
   if(m_pos<m_n && StringGetCharacter(m_s,m_pos)=='.')
     {
      m_pos++;
      int digits=0;
      while(m_pos<m_n && IsDigit(StringGetCharacter(m_s,m_pos)))
        {
         m_pos++;
         digits++;
        }
      if(digits==0)
         return Fail("bad fraction");
     }
   if(m_pos<m_n && (StringGetCharacter(m_s,m_pos)=='e' || StringGetCharacter(m_s,m_pos)=='E'))
     {
      m_pos++;
      if(m_pos<m_n && (StringGetCharacter(m_s,m_pos)=='+' || StringGetCharacter(m_s,m_pos)=='-'))
         m_pos++;
      int digits=0;
      while(m_pos<m_n && IsDigit(StringGetCharacter(m_s,m_pos)))
        {
         m_pos++;
         digits++;
        }
      if(digits==0)
         return Fail("bad exponent");
     }
   out=StringSubstr(m_s,start,m_pos-start);
   return true;
  }

JValue *JParser::ParseValue(const int depth)
  {
   if(depth>OG_JSON_DEPTH)
     {
      Fail("nested too deep");
      return NULL;
     }
   SkipSpace();
   if(m_pos>=m_n)
     {
      Fail("unexpected end");
      return NULL;
     }
   ushort c=StringGetCharacter(m_s,m_pos);
   if(c=='{')
     {
      m_pos++;
      JValue *obj=JObj();
      SkipSpace();
      if(m_pos<m_n && StringGetCharacter(m_s,m_pos)=='}')
        {
         m_pos++;
         return obj;
        }
      while(true)
        {
         SkipSpace();
         if(m_pos>=m_n || StringGetCharacter(m_s,m_pos)!='"')
           {
            Fail("expected a key");
            delete obj;
            return NULL;
           }
         string key;
         if(!ParseString(key))
           {
            delete obj;
            return NULL;
           }
         SkipSpace();
         if(m_pos>=m_n || StringGetCharacter(m_s,m_pos)!=':')
           {
            Fail("expected ':'");
            delete obj;
            return NULL;
           }
         m_pos++;
         JValue *member=ParseValue(depth+1);
         if(member==NULL)
           {
            delete obj;
            return NULL;
           }
         obj.Set(key,member);
         SkipSpace();
         if(m_pos<m_n && StringGetCharacter(m_s,m_pos)==',')
           {
            m_pos++;
            continue;
           }
         if(m_pos<m_n && StringGetCharacter(m_s,m_pos)=='}')
           {
            m_pos++;
            return obj;
           }
         Fail("expected ',' or '}'");
         delete obj;
         return NULL;
        }
     }
   if(c=='[')
     {
      m_pos++;
      JValue *arr=JArr();
      SkipSpace();
      if(m_pos<m_n && StringGetCharacter(m_s,m_pos)==']')
        {
         m_pos++;
         return arr;
        }
      while(true)
        {
         JValue *item=ParseValue(depth+1);
         if(item==NULL)
           {
            delete arr;
            return NULL;
           }
         arr.Add(item);
         SkipSpace();
         if(m_pos<m_n && StringGetCharacter(m_s,m_pos)==',')
           {
            m_pos++;
            continue;
           }
         if(m_pos<m_n && StringGetCharacter(m_s,m_pos)==']')
           {
            m_pos++;
            return arr;
           }
         Fail("expected ',' or ']'");
         delete arr;
         return NULL;
        }
     }
   if(c=='"')
     {
      string s;
      if(!ParseString(s))
         return NULL;
      return JStr(s);
     }
   if(c=='t')
     {
      if(!Literal("true"))
         return NULL;
      return JBool(true);
     }
   if(c=='f')
     {
      if(!Literal("false"))
         return NULL;
      return JBool(false);
     }
   if(c=='n')
     {
      if(!Literal("null"))
         return NULL;
      return JNull();
     }
   if(c=='-' || IsDigit(c))
     {
      string num;
      if(!ParseNumber(num))
         return NULL;
      return JNumText(num);
     }
   Fail("unexpected character");
   return NULL;
  }

//--- parse text; NULL (and `error`) when it is not JSON
JValue *JParse(const string text,string &error)
  {
   JParser parser;
   JValue *v=parser.Parse(text);
   error=(v==NULL) ? parser.Error() : "";
   return v;
  }

//+------------------------------------------------------------------+
//| Decimals on the wire                                             |
//+------------------------------------------------------------------+
//--- the larger of two integers
long MaxL(const long a,const long b)
  {
   return a>b ? a : b;
  }

//--- the decimals a step needs (0.01 -> 2, 1 -> 0, 0.05 -> 2)
int StepDecimals(const double step)
  {
   if(step<=0.0)
      return 2;
   for(int d=0;d<=8;d++)
     {
      double x=step*MathPow(10.0,d);
      if(MathAbs(x-MathRound(x))<1e-7*MathMax(1.0,x))
         return d;
     }
   return 8;
  }

int SymbolDigits(const string symbol)
  {
   return (int)SymbolInfoInteger(symbol,SYMBOL_DIGITS);
  }

int VolumeDecimals(const string symbol)
  {
   return StepDecimals(SymbolInfoDouble(symbol,SYMBOL_VOLUME_STEP));
  }

//--- "-0.00" is written "0.00"
string NoNegativeZero(const string s)
  {
   if(StringSubstr(s,0,1)!="-")
      return s;
   for(int i=1;i<StringLen(s);i++)
     {
      ushort c=StringGetCharacter(s,i);
      if(c!='0' && c!='.')
         return s;
     }
   return StringSubstr(s,1);
  }

string FmtFixed(const double v,const int decimals)
  {
   return NoNegativeZero(DoubleToString(NormalizeDouble(v,decimals),decimals));
  }

//--- a price with the symbol's digits
string FmtPrice(const string symbol,const double v)
  {
   return FmtFixed(v,SymbolDigits(symbol));
  }

//--- a volume with the volume step's decimals
string FmtVolume(const string symbol,const double v)
  {
   return FmtFixed(v,VolumeDecimals(symbol));
  }

//--- money: 2 decimals
string FmtMoney(const double v)
  {
   return FmtFixed(v,2);
  }

//--- a plain decimal with no trailing zeros (a contract size: "100000", "0.1")
string FmtPlain(const double v)
  {
   string s=DoubleToString(v,8);
   if(StringFind(s,".")>=0)
     {
      int end=StringLen(s);
      while(end>0 && StringGetCharacter(s,end-1)=='0')
         end--;
      if(end>0 && StringGetCharacter(s,end-1)=='.')
         end--;
      s=StringSubstr(s,0,end);
     }
   return NoNegativeZero(s);
  }

//--- a price, or null for 0 (MT5's "not set")
JValue *JPrice(const string symbol,const double v)
  {
   return v==0.0 ? JNull() : JStr(FmtPrice(symbol,v));
  }

//--- the schema's `decimal`: -?(0|[1-9][0-9]*)(\.[0-9]+)?
bool IsDecimalText(const string s)
  {
   int n=StringLen(s);
   int i=0;
   if(i<n && StringGetCharacter(s,i)=='-')
      i++;
   if(i>=n)
      return false;
   ushort c=StringGetCharacter(s,i);
   if(c=='0')
      i++;
   else if(c>='1' && c<='9')
     {
      while(i<n && StringGetCharacter(s,i)>='0' && StringGetCharacter(s,i)<='9')
         i++;
     }
   else
      return false;
   if(i==n)
      return true;
   if(StringGetCharacter(s,i)!='.')
      return false;
   i++;
   int digits=0;
   while(i<n && StringGetCharacter(s,i)>='0' && StringGetCharacter(s,i)<='9')
     {
      i++;
      digits++;
     }
   return digits>0 && i==n;
  }

//--- the schema's `positive_decimal`: a decimal, not negative, not zero
bool IsPositiveDecimalText(const string s)
  {
   if(!IsDecimalText(s) || StringSubstr(s,0,1)=="-")
      return false;
   for(int i=0;i<StringLen(s);i++)
     {
      ushort c=StringGetCharacter(s,i);
      if(c>='1' && c<='9')
         return true;
     }
   return false;
  }

//--- the schema's `client_order_id`: 1..64 of A-Z a-z 0-9 . _ : -
bool IsIdText(const string s,const int maxLength)
  {
   int n=StringLen(s);
   if(n<1 || n>maxLength)
      return false;
   for(int i=0;i<n;i++)
     {
      ushort c=StringGetCharacter(s,i);
      bool ok=(c>='A' && c<='Z') || (c>='a' && c<='z') || (c>='0' && c<='9') ||
              c=='.' || c=='_' || c==':' || c=='-';
      if(!ok)
         return false;
     }
   return true;
  }

//+------------------------------------------------------------------+
//| 3. Session, sequence, ring buffer, publishing                    |
//+------------------------------------------------------------------+
//--- one ZeroMQ context for the terminal's process (mql-zmq shares it by name)
Context  g_ctx("ordergate_bridge_context");
Socket  *g_rep=NULL;          // commands
Socket  *g_pub=NULL;          // events

bool     g_started=false;     // sockets bound, id map loaded, session open
long     g_login=0;           // the account the id map belongs to
string   g_session="";        // <login>-<start_ms>-<counter>
long     g_sessionStartMs=0;
long     g_seq=0;             // the last event's number in this session

//--- the last InpRingSize events, serialized, oldest at g_ringHead
string   g_ring[];
long     g_ringSeq[];
int      g_ringHead=0;
int      g_ringCount=0;
int      g_ringSize=0;

//--- the trade server's clock, in ms (TimeTradeServer has second resolution)
long ServerMs(void)
  {
   return (long)TimeTradeServer()*1000;
  }

bool TerminalConnected(void)
  {
   return TerminalInfoInteger(TERMINAL_CONNECTED)!=0;
  }

//--- a new session id: <login>-<start_ms>-<counter>; the counter counts starts on this terminal
string NewSessionId(const long login,const long startMs)
  {
   string name="ordergate.bridge."+IntegerToString(login)+".starts";
   double starts=GlobalVariableCheck(name) ? GlobalVariableGet(name) : 0.0;
   starts+=1.0;
   GlobalVariableSet(name,starts);
   return IntegerToString(login)+"-"+IntegerToString(startMs)+"-"+IntegerToString((long)starts);
  }

void RingReset(const int size)
  {
   g_ringSize=(int)MaxL(1,size);
   ArrayResize(g_ring,g_ringSize);
   ArrayResize(g_ringSeq,g_ringSize);
   for(int i=0;i<g_ringSize;i++)
     {
      g_ring[i]="";
      g_ringSeq[i]=0;
     }
   g_ringHead=0;
   g_ringCount=0;
  }

void RingPush(const long seq,const string json)
  {
   int index;
   if(g_ringCount<g_ringSize)
     {
      index=(g_ringHead+g_ringCount)%g_ringSize;
      g_ringCount++;
     }
   else
     {
      index=g_ringHead;                       // the oldest is overwritten
      g_ringHead=(g_ringHead+1)%g_ringSize;
     }
   g_ring[index]=json;
   g_ringSeq[index]=seq;
  }

//--- the oldest event the ring still holds (last+1 when it is empty)
long RingOldestSeq(void)
  {
   if(g_ringCount==0)
      return g_seq+1;
   return g_ringSeq[g_ringHead];
  }

//--- append to `events` every ringed event numbered after `after`, in order
void RingCollect(const long after,JValue *events)
  {
   for(int k=0;k<g_ringCount;k++)
     {
      int index=(g_ringHead+k)%g_ringSize;
      if(g_ringSeq[index]>after)
         events.Add(JRaw(g_ring[index]));
     }
  }

//--- send [topic, json] on PUB, never blocking (PUB drops at its high-water mark)
bool PubSend(const string topic,const string json)
  {
   if(g_pub==NULL)
      return false;
   ZmqMsg head(topic);
   ZmqMsg body(json);
   if(!g_pub.sendMore(head,true))
      return false;
   return g_pub.send(body,true);
  }

//--- the envelope of an event: v, session, seq (set when published), ts, type
JValue *EventBegin(const string type,const long ts)
  {
   JValue *ev=JObj();
   ev.Set("v",JInt(OG_VERSION));
   ev.Set("session",JStr(g_session));
   ev.Set("seq",JInt(g_seq));
   ev.Set("ts",JInt(MaxL(ts,(long)0)));
   ev.Set("type",JStr(type));
   return ev;
  }

//--- number the event, keep it in the ring, publish it; takes ownership of `ev`
void Publish(JValue *ev)
  {
   if(!g_started)
     {
      delete ev;
      return;
     }
   g_seq++;
   ev.Set("seq",JInt(g_seq));
   JValue *type=ev.Get("type");
   string topic="evt."+(type!=NULL ? type.text : "unknown");
   string json=ev.Serialize();
   delete ev;
   RingPush(g_seq,json);
   if(!PubSend(topic,json))
      PrintFormat("OrdergateBridge: event %I64d (%s) not sent: %s",g_seq,topic,Zmq::errorMessage());
  }

//--- the heartbeat takes no number: its seq is the last event's
void PublishHeartbeat(void)
  {
   if(!g_started)
      return;
   long now=ServerMs();
   JValue *hb=EventBegin("heartbeat",now);
   hb.Set("server_time",JInt(now));
   hb.Set("terminal_connected",JBool(TerminalConnected()));
   string json=hb.Serialize();
   delete hb;
   PubSend("evt.heartbeat",json);
  }

//+------------------------------------------------------------------+
//| 4. The id map: client order id -> ticket, persisted before send  |
//|                                                                  |
//| MQL5/Files/ordergate/<login>-ids.jsonl, one JSON object a line:  |
//|   {client_order_id, token, state: "sending", time}   before send |
//|   {..., state: "done", ticket, reply, time}          a ticket    |
//|   {..., state: "refused", ticket: null, reply, time} a refusal   |
//|   {..., state: "forgotten", time}     not sent after all (BUSY): |
//|                                       the id may be sent again   |
//| The last line of an id wins. `time` (server ms) dates the entry  |
//| for compaction. The file is opened without FILE_COMMON, so it    |
//| lives in this terminal's MQL5/Files.                             |
//+------------------------------------------------------------------+
#define ID_SENDING   "sending"
#define ID_DONE      "done"
#define ID_REFUSED   "refused"
#define ID_FORGOTTEN "forgotten"

string   g_idCoid[];          // slot -> client order id
string   g_idToken[];         // slot -> og: token
string   g_idState[];         // slot -> sending | done | refused ("" for a dropped slot)
ulong    g_idTicket[];        // slot -> the order's ticket (0: none)
long     g_idTime[];          // slot -> server ms of the entry
JValue  *g_idReply[];         // slot -> the first answer (result or error), or NULL
int      g_idSlots=0;
int      g_idLines=0;         // lines in the file
int      g_idCompactFloor=0;  // do not compact again before the file has this many lines

CHashMap<string,int> g_idByCoid;
CHashMap<string,int> g_idByToken;
CHashMap<ulong,int>  g_idByTicket;

int      g_idFile=INVALID_HANDLE;
string   g_idPath="";

string IdFilePath(const long login)
  {
   return OG_ID_DIR+"\\"+IntegerToString(login)+"-ids.jsonl";
  }

//--- RFC 4648 base32, without padding
string Base32(const uchar &bytes[],const int count)
  {
   const string alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
   string out="";
   int buffer=0;
   int bits=0;
   for(int i=0;i<count;i++)
     {
      buffer=((buffer<<8)|bytes[i]) & 0xFFFF;
      bits+=8;
      while(bits>=5)
        {
         int index=(buffer>>(bits-5)) & 31;
         bits-=5;
         StringAdd(out,StringSubstr(alphabet,index,1));
        }
     }
   if(bits>0)
     {
      int index=(buffer<<(5-bits)) & 31;
      StringAdd(out,StringSubstr(alphabet,index,1));
     }
   return out;
  }

//--- the id's token: "og:" + the first 14 base32 characters of the first 10 bytes
//--- of SHA-256(client_order_id) (70 bits; 17 characters, within MT5's 31 of comment)
string TokenOf(const string coid)
  {
   uchar data[];
   int n=StringToCharArray(coid,data,0,WHOLE_ARRAY,CP_UTF8);
   if(n>0 && data[n-1]==0)
      n--;
   ArrayResize(data,n);
   uchar key[];
   uchar hash[];
   if(CryptEncode(CRYPT_HASH_SHA256,data,key,hash)<32)
      return "";
   return "og:"+StringSubstr(Base32(hash,10),0,14);
  }

//--- a string member of a record, or ""
string RecStr(JValue *rec,const string key)
  {
   JValue *v=rec.Get(key);
   if(v==NULL || !v.IsString())
      return "";
   return v.text;
  }

//--- an integer member of a record, or 0
long RecLong(JValue *rec,const string key)
  {
   JValue *v=rec.Get(key);
   if(v==NULL || !v.IsInteger())
      return 0;
   return v.AsLong();
  }

void IdsReset(void)
  {
   for(int i=0;i<g_idSlots;i++)
      if(CheckPointer(g_idReply[i])==POINTER_DYNAMIC)
         delete g_idReply[i];
   ArrayResize(g_idCoid,0);
   ArrayResize(g_idToken,0);
   ArrayResize(g_idState,0);
   ArrayResize(g_idTicket,0);
   ArrayResize(g_idTime,0);
   ArrayResize(g_idReply,0);
   g_idSlots=0;
   g_idLines=0;
   g_idCompactFloor=0;
   g_idByCoid.Clear();
   g_idByToken.Clear();
   g_idByTicket.Clear();
  }

//--- forget a slot in memory
void IdsDrop(const int slot)
  {
   g_idByCoid.Remove(g_idCoid[slot]);
   g_idByToken.Remove(g_idToken[slot]);
   int other;
   if(g_idTicket[slot]>0 && g_idByTicket.TryGetValue(g_idTicket[slot],other) && other==slot)
      g_idByTicket.Remove(g_idTicket[slot]);
   if(CheckPointer(g_idReply[slot])==POINTER_DYNAMIC)
      delete g_idReply[slot];
   g_idReply[slot]=NULL;
   g_idState[slot]="";
  }

//--- apply one record to the map in memory
void IdsApply(JValue *rec)
  {
   string coid=RecStr(rec,"client_order_id");
   string state=RecStr(rec,"state");
   if(coid=="" || state=="")
      return;
   int slot=-1;
   bool known=g_idByCoid.TryGetValue(coid,slot);
   if(state==ID_FORGOTTEN)
     {
      if(known)
         IdsDrop(slot);
      return;
     }
   if(!known)
     {
      slot=g_idSlots;
      g_idSlots++;
      ArrayResize(g_idCoid,g_idSlots,1024);
      ArrayResize(g_idToken,g_idSlots,1024);
      ArrayResize(g_idState,g_idSlots,1024);
      ArrayResize(g_idTicket,g_idSlots,1024);
      ArrayResize(g_idTime,g_idSlots,1024);
      ArrayResize(g_idReply,g_idSlots,1024);
      g_idReply[slot]=NULL;
      g_idTicket[slot]=0;
      g_idTime[slot]=0;
      g_idByCoid.TrySetValue(coid,slot);
     }
   string token=RecStr(rec,"token");
   if(token=="")
      token=TokenOf(coid);
   g_idCoid[slot]=coid;
   g_idToken[slot]=token;
   g_idState[slot]=state;
   long ticket=RecLong(rec,"ticket");
   if(ticket>0)
      g_idTicket[slot]=(ulong)ticket;
   long stamp=RecLong(rec,"time");
   if(stamp>0 && (g_idTime[slot]==0 || state==ID_SENDING))
      g_idTime[slot]=stamp;
   JValue *reply=rec.Get("reply");
   if(reply!=NULL && reply.IsObject())
     {
      if(CheckPointer(g_idReply[slot])==POINTER_DYNAMIC)
         delete g_idReply[slot];
      g_idReply[slot]=reply.Clone();
     }
   g_idByToken.TrySetValue(token,slot);
   if(g_idTicket[slot]>0)
      g_idByTicket.TrySetValue(g_idTicket[slot],slot);
  }

//--- UTF-8 bytes of a line, without the terminating zero
int LineBytes(const string line,uchar &bytes[])
  {
   int n=StringToCharArray(line,bytes,0,WHOLE_ARRAY,CP_UTF8);
   if(n>0 && bytes[n-1]==0)
      n--;
   return n;
  }

//--- append one record and flush; apply it in memory if it was written (or if `always`)
bool IdsWrite(JValue *rec,const bool always)
  {
   bool written=false;
   if(g_idFile!=INVALID_HANDLE)
     {
      uchar bytes[];
      int n=LineBytes(rec.Serialize()+"\n",bytes);
      if(FileSeek(g_idFile,0,SEEK_END))
        {
         uint done=FileWriteArray(g_idFile,bytes,0,n);
         FileFlush(g_idFile);
         written=(done==(uint)n);
        }
     }
   if(!written)
      PrintFormat("OrdergateBridge: could not write %s (error %d)",g_idPath,GetLastError());
   else
      g_idLines++;
   if(written || always)
      IdsApply(rec);
   return written;
  }

//--- a record: {client_order_id, token, state, time}
JValue *IdRecord(const string coid,const string token,const string state)
  {
   JValue *rec=JObj();
   rec.Set("client_order_id",JStr(coid));
   rec.Set("token",JStr(token));
   rec.Set("state",JStr(state));
   rec.Set("time",JInt(ServerMs()));
   return rec;
  }

//--- the slot of a known id, or -1
int IdsFind(const string coid)
  {
   int slot;
   if(g_idByCoid.TryGetValue(coid,slot) && g_idState[slot]!="")
      return slot;
   return -1;
  }

//--- step 1: "sending", durably; false: not written (nothing may be sent)
bool IdsSending(const string coid)
  {
   JValue *rec=IdRecord(coid,TokenOf(coid),ID_SENDING);
   bool ok=IdsWrite(rec,false);
   delete rec;
   IdsMaybeCompact();
   return ok;
  }

//--- step 2: the outcome, "done" with the ticket, or "refused"; `reply` is copied
void IdsOutcome(const string coid,const string state,const ulong ticket,JValue *reply)
  {
   JValue *rec=IdRecord(coid,TokenOf(coid),state);
   rec.Set("ticket",JTicket(ticket));
   rec.Set("reply",reply.Clone());
   IdsWrite(rec,true);
   delete rec;
   IdsMaybeCompact();
  }

//--- not sent after all: the id may be sent again
void IdsForget(const string coid)
  {
   JValue *rec=IdRecord(coid,TokenOf(coid),ID_FORGOTTEN);
   IdsWrite(rec,true);
   delete rec;
  }

//--- the client order id of an order the EA placed, by its ticket
string IdOfTicket(const ulong ticket)
  {
   int slot;
   if(ticket>0 && g_idByTicket.TryGetValue(ticket,slot) && g_idState[slot]!="" && g_idTicket[slot]==ticket)
      return g_idCoid[slot];
   return "";
  }

//--- the client order id whose token a comment carries
string IdOfComment(const string comment)
  {
   int at=StringFind(comment,"og:");
   if(at<0)
      return "";
   string token=StringSubstr(comment,at,17);
   int slot;
   if(StringLen(token)==17 && g_idByToken.TryGetValue(token,slot) && g_idState[slot]!="")
      return g_idCoid[slot];
   return "";
  }

//--- by ticket first, then by the comment's token; "" when the EA did not place it
string ClientOrderIdOf(const ulong ticket,const string comment)
  {
   string coid=IdOfTicket(ticket);
   if(coid=="")
      coid=IdOfComment(comment);
   return coid;
  }

JValue *JClientOrderId(const ulong ticket,const string comment)
  {
   return JStrOrNull(ClientOrderIdOf(ticket,comment));
  }

//--- the order that carries `token` in its comment: open orders, positions, then the
//--- history (orders and deals) from a day before `sinceMs`; 0 when there is none
ulong FindOrderByToken(const string token,const long sinceMs)
  {
   for(int i=OrdersTotal()-1;i>=0;i--)
     {
      ulong t=OrderGetTicket(i);
      if(t>0 && StringFind(OrderGetString(ORDER_COMMENT),token)>=0)
         return t;
     }
   for(int i=PositionsTotal()-1;i>=0;i--)
     {
      ulong p=PositionGetTicket(i);
      if(p>0 && StringFind(PositionGetString(POSITION_COMMENT),token)>=0)
         return (ulong)PositionGetInteger(POSITION_IDENTIFIER);
     }
   datetime from=0;
   if(sinceMs>0)
      from=(datetime)(sinceMs/1000-86400);
   if(!HistorySelect(from,TimeCurrent()+86400))
      return 0;
   int orders=HistoryOrdersTotal();
   for(int i=orders-1;i>=0;i--)
     {
      ulong t=HistoryOrderGetTicket(i);
      if(t>0 && StringFind(HistoryOrderGetString(t,ORDER_COMMENT),token)>=0)
         return t;
     }
   int deals=HistoryDealsTotal();
   for(int i=deals-1;i>=0;i--)
     {
      ulong d=HistoryDealGetTicket(i);
      if(d>0 && StringFind(HistoryDealGetString(d,DEAL_COMMENT),token)>=0)
        {
         ulong order=(ulong)HistoryDealGetInteger(d,DEAL_ORDER);
         if(order>0)
            return order;
        }
     }
   return 0;
  }

//--- rewrite the file with one line per id kept: ids still "sending", ids whose order
//--- is open, and ids placed (or refused) within the last 7 days
void IdsCompact(void)
  {
   long now=ServerMs();
   string tmp=g_idPath+".tmp";
   int h=FileOpen(tmp,FILE_WRITE|FILE_BIN);
   if(h==INVALID_HANDLE)
     {
      PrintFormat("OrdergateBridge: cannot compact %s (error %d)",g_idPath,GetLastError());
      g_idCompactFloor=g_idLines*2;
      return;
     }
   int kept=0;
   bool ok=true;
   for(int i=0;i<g_idSlots && ok;i++)
     {
      if(g_idState[i]=="")
         continue;
      bool open=(g_idTicket[i]>0 && OrderSelect(g_idTicket[i]));
      bool recent=(now-g_idTime[i]<=OG_ID_KEEP_MS);
      if(g_idState[i]!=ID_SENDING && !open && !recent)
        {
         IdsDrop(i);
         continue;
        }
      JValue *rec=JObj();
      rec.Set("client_order_id",JStr(g_idCoid[i]));
      rec.Set("token",JStr(g_idToken[i]));
      rec.Set("state",JStr(g_idState[i]));
      rec.Set("time",JInt(g_idTime[i]));
      if(g_idState[i]!=ID_SENDING)
        {
         rec.Set("ticket",JTicket(g_idTicket[i]));
         rec.Set("reply",g_idReply[i]!=NULL ? g_idReply[i].Clone() : JNull());
        }
      uchar bytes[];
      int n=LineBytes(rec.Serialize()+"\n",bytes);
      delete rec;
      ok=(FileWriteArray(h,bytes,0,n)==(uint)n);
      kept++;
     }
   FileFlush(h);
   FileClose(h);
   if(!ok)
     {
      FileDelete(tmp);
      g_idCompactFloor=g_idLines*2;
      return;
     }
   if(g_idFile!=INVALID_HANDLE)
      FileClose(g_idFile);
   if(FileMove(tmp,0,g_idPath,FILE_REWRITE))
      g_idLines=kept;
   else
      PrintFormat("OrdergateBridge: cannot replace %s (error %d)",g_idPath,GetLastError());
   g_idFile=FileOpen(g_idPath,FILE_READ|FILE_WRITE|FILE_BIN|FILE_SHARE_READ);
   if(g_idFile!=INVALID_HANDLE)
      FileSeek(g_idFile,0,SEEK_END);
   g_idCompactFloor=(int)MaxL(OG_ID_COMPACT_AFTER,g_idLines*2);
  }

void IdsMaybeCompact(void)
  {
   if(g_idLines>OG_ID_COMPACT_AFTER && g_idLines>g_idCompactFloor)
      IdsCompact();
  }

//--- open the account's id file, read it back, keep it open for appending
bool IdsLoad(const long login)
  {
   IdsReset();
   FolderCreate(OG_ID_DIR);
   g_idPath=IdFilePath(login);
   int h=FileOpen(g_idPath,FILE_READ|FILE_WRITE|FILE_BIN|FILE_SHARE_READ);
   if(h==INVALID_HANDLE)
     {
      PrintFormat("OrdergateBridge: cannot open %s (error %d)",g_idPath,GetLastError());
      return false;
     }
   int size=(int)FileSize(h);
   if(size>0)
     {
      uchar buffer[];
      ArrayResize(buffer,size);
      uint got=FileReadArray(h,buffer,0,size);
      string text=CharArrayToString(buffer,0,(int)got,CP_UTF8);
      string lines[];
      int n=StringSplit(text,'\n',lines);
      for(int i=0;i<n;i++)
        {
         string line=lines[i];
         StringTrimLeft(line);
         StringTrimRight(line);
         if(line=="")
            continue;
         g_idLines++;
         string error;
         JValue *rec=JParse(line,error);
         if(rec==NULL || !rec.IsObject())
           {
            //--- a line cut short when the terminal died: the id it began stays as it was
            PrintFormat("OrdergateBridge: %s line %d skipped: %s",g_idPath,i+1,error);
            if(rec!=NULL)
               delete rec;
            continue;
           }
         IdsApply(rec);
         delete rec;
        }
     }
   g_idFile=h;
   FileSeek(g_idFile,0,SEEK_END);
   //--- a line cut short has no newline: start the next record on a line of its own
   if(size>0)
     {
      uchar last[];
      FileSeek(g_idFile,-1,SEEK_END);
      if(FileReadArray(g_idFile,last,0,1)==1 && last[0]!='\n')
        {
         uchar nl[1];
         nl[0]='\n';
         FileSeek(g_idFile,0,SEEK_END);
         FileWriteArray(g_idFile,nl,0,1);
         FileFlush(g_idFile);
        }
      FileSeek(g_idFile,0,SEEK_END);
     }
   g_idCompactFloor=OG_ID_COMPACT_AFTER;
   IdsMaybeCompact();
   return true;
  }

void IdsClose(void)
  {
   if(g_idFile!=INVALID_HANDLE)
      FileClose(g_idFile);
   g_idFile=INVALID_HANDLE;
   IdsReset();
  }

//+------------------------------------------------------------------+
//| 5. Retcodes and errors                                           |
//|                                                                  |
//| docs/mt5-bridge.md, "Error codes": each TRADE_RETCODE_* is one   |
//| of ok, no_change, requoted, rejected, busy, unknown; any retcode |
//| not in the table is a refusal (rejected).                        |
//+------------------------------------------------------------------+
#define OUT_OK        "ok"
#define OUT_NO_CHANGE "no_change"
#define OUT_REQUOTED  "requoted"
#define OUT_REJECTED  "rejected"
#define OUT_BUSY      "busy"
#define OUT_UNKNOWN   "unknown"

string RetcodeName(const uint retcode)
  {
   switch(retcode)
     {
      case 10004: return "TRADE_RETCODE_REQUOTE";
      case 10006: return "TRADE_RETCODE_REJECT";
      case 10007: return "TRADE_RETCODE_CANCEL";
      case 10008: return "TRADE_RETCODE_PLACED";
      case 10009: return "TRADE_RETCODE_DONE";
      case 10010: return "TRADE_RETCODE_DONE_PARTIAL";
      case 10011: return "TRADE_RETCODE_ERROR";
      case 10012: return "TRADE_RETCODE_TIMEOUT";
      case 10013: return "TRADE_RETCODE_INVALID";
      case 10014: return "TRADE_RETCODE_INVALID_VOLUME";
      case 10015: return "TRADE_RETCODE_INVALID_PRICE";
      case 10016: return "TRADE_RETCODE_INVALID_STOPS";
      case 10017: return "TRADE_RETCODE_TRADE_DISABLED";
      case 10018: return "TRADE_RETCODE_MARKET_CLOSED";
      case 10019: return "TRADE_RETCODE_NO_MONEY";
      case 10020: return "TRADE_RETCODE_PRICE_CHANGED";
      case 10021: return "TRADE_RETCODE_PRICE_OFF";
      case 10022: return "TRADE_RETCODE_INVALID_EXPIRATION";
      case 10023: return "TRADE_RETCODE_ORDER_CHANGED";
      case 10024: return "TRADE_RETCODE_TOO_MANY_REQUESTS";
      case 10025: return "TRADE_RETCODE_NO_CHANGES";
      case 10026: return "TRADE_RETCODE_SERVER_DISABLES_AT";
      case 10027: return "TRADE_RETCODE_CLIENT_DISABLES_AT";
      case 10028: return "TRADE_RETCODE_LOCKED";
      case 10029: return "TRADE_RETCODE_FROZEN";
      case 10030: return "TRADE_RETCODE_INVALID_FILL";
      case 10031: return "TRADE_RETCODE_CONNECTION";
      case 10032: return "TRADE_RETCODE_ONLY_REAL";
      case 10033: return "TRADE_RETCODE_LIMIT_ORDERS";
      case 10034: return "TRADE_RETCODE_LIMIT_VOLUME";
      case 10035: return "TRADE_RETCODE_INVALID_ORDER";
      case 10036: return "TRADE_RETCODE_POSITION_CLOSED";
      case 10038: return "TRADE_RETCODE_INVALID_CLOSE_VOLUME";
      case 10039: return "TRADE_RETCODE_CLOSE_ORDER_EXIST";
      case 10040: return "TRADE_RETCODE_LIMIT_POSITIONS";
      case 10041: return "TRADE_RETCODE_REJECT_CANCEL";
      case 10042: return "TRADE_RETCODE_LONG_ONLY";
      case 10043: return "TRADE_RETCODE_SHORT_ONLY";
      case 10044: return "TRADE_RETCODE_CLOSE_ONLY";
      case 10045: return "TRADE_RETCODE_FIFO_CLOSE";
      case 10046: return "TRADE_RETCODE_HEDGE_PROHIBITED";
     }
   return "TRADE_RETCODE_UNKNOWN";
  }

string OutcomeOf(const uint retcode)
  {
   switch(retcode)
     {
      case 10008:
      case 10009:
      case 10010:
         return OUT_OK;
      case 10025:
         return OUT_NO_CHANGE;
      case 10004:
      case 10020:
      case 10021:
         return OUT_REQUOTED;
      case 10024:
      case 10026:
      case 10027:
      case 10028:
      case 10031:
         return OUT_BUSY;
      case 10011:
      case 10012:
         return OUT_UNKNOWN;
     }
   return OUT_REJECTED;
  }

//--- the error code a refusal's outcome answers with
string ErrorCodeOf(const string outcome)
  {
   if(outcome==OUT_BUSY)
      return "BUSY";
   if(outcome==OUT_UNKNOWN)
      return "UNKNOWN_OUTCOME";
   return "REJECTED";
  }

//--- the schema's retcode: 10000..10099, else null
JValue *JRetcode(const uint retcode)
  {
   if(retcode<10000 || retcode>10099)
      return JNull();
   return JInt(retcode);
  }

//--- "TRADE_RETCODE_PRICE_CHANGED" -> "price changed"
string RetcodeMessage(const uint retcode)
  {
   string name=RetcodeName(retcode);
   string text=StringSubstr(name,StringLen("TRADE_RETCODE_"));
   StringToLower(text);
   StringReplace(text,"_"," ");
   return text;
  }

//--- the current command's error (set by Err and the argument checks), owned here
JValue *g_err=NULL;

void ClearError(void)
  {
   if(CheckPointer(g_err)==POINTER_DYNAMIC)
      delete g_err;
   g_err=NULL;
  }

//--- an error object: code, retcode, retcode_name, message, ticket
JValue *ErrorObject(const string code,const string message)
  {
   JValue *e=JObj();
   e.Set("code",JStr(code));
   e.Set("retcode",JNull());
   e.Set("retcode_name",JNull());
   e.Set("message",JStr(message));
   e.Set("ticket",JNull());
   return e;
  }

//--- fail the current command with `error` (taken over); handlers `return Err(...)`
JValue *FailWith(JValue *error)
  {
   ClearError();
   g_err=error;
   return NULL;
  }

JValue *Err(const string code,const string message)
  {
   return FailWith(ErrorObject(code,message));
  }

JValue *ErrTicket(const string code,const string message,const ulong ticket)
  {
   JValue *e=ErrorObject(code,message);
   e.Set("ticket",JTicket(ticket));
   return FailWith(e);
  }

//--- argument checks fail with BAD_REQUEST and answer false
bool BadRequest(const string message)
  {
   Err("BAD_REQUEST",message);
   return false;
  }

//--- the error of a trade server's refusal. A requote carries the new bid and ask.
JValue *RefusalObject(const MqlTradeResult &result,const string symbol)
  {
   string outcome=OutcomeOf(result.retcode);
   string message=result.comment;
   if(outcome==OUT_UNKNOWN)
      message="the trade server did not answer: ask get_order before sending again";
   else if(message=="")
      message=RetcodeMessage(result.retcode);
   JValue *e=ErrorObject(ErrorCodeOf(outcome),message);
   e.Set("retcode",JRetcode(result.retcode));
   e.Set("retcode_name",JStr(RetcodeName(result.retcode)));
   e.Set("ticket",JTicket(result.order));
   if(outcome==OUT_REQUOTED)
     {
      double bid=result.bid;
      double ask=result.ask;
      MqlTick tick;
      if((bid==0.0 || ask==0.0) && symbol!="" && SymbolInfoTick(symbol,tick))
        {
         if(bid==0.0)
            bid=tick.bid;
         if(ask==0.0)
            ask=tick.ask;
        }
      e.Set("bid",symbol!="" ? JPrice(symbol,bid) : JNull());
      e.Set("ask",symbol!="" ? JPrice(symbol,ask) : JNull());
     }
   return e;
  }

//+------------------------------------------------------------------+
//| 6. Objects: order, deal, position, account, symbol spec          |
//+------------------------------------------------------------------+
//--- ORDER_TYPE_* -> market | limit | stop | stop_limit (a close-by is a market order)
string OrderTypeName(const long type)
  {
   switch((int)type)
     {
      case ORDER_TYPE_BUY_LIMIT:
      case ORDER_TYPE_SELL_LIMIT:
         return "limit";
      case ORDER_TYPE_BUY_STOP:
      case ORDER_TYPE_SELL_STOP:
         return "stop";
      case ORDER_TYPE_BUY_STOP_LIMIT:
      case ORDER_TYPE_SELL_STOP_LIMIT:
         return "stop_limit";
     }
   return "market";
  }

bool IsPendingType(const long type)
  {
   return OrderTypeName(type)!="market";
  }

//--- ORDER_STATE_* in lower case
string OrderStateName(const long state)
  {
   switch((int)state)
     {
      case ORDER_STATE_STARTED:        return "started";
      case ORDER_STATE_PLACED:         return "placed";
      case ORDER_STATE_CANCELED:       return "canceled";
      case ORDER_STATE_PARTIAL:        return "partial";
      case ORDER_STATE_FILLED:         return "filled";
      case ORDER_STATE_REJECTED:       return "rejected";
      case ORDER_STATE_EXPIRED:        return "expired";
      case ORDER_STATE_REQUEST_ADD:    return "request_add";
      case ORDER_STATE_REQUEST_MODIFY: return "request_modify";
      case ORDER_STATE_REQUEST_CANCEL: return "request_cancel";
     }
   return "started";
  }

//--- an order still in the terminal's list of open orders
bool IsOpenState(const string state)
  {
   return state=="started" || state=="placed" || state=="partial" ||
          state=="request_add" || state=="request_modify" || state=="request_cancel";
  }

string TimeInForceName(const long typeTime)
  {
   switch((int)typeTime)
     {
      case ORDER_TIME_DAY:           return "DAY";
      case ORDER_TIME_SPECIFIED:     return "SPECIFIED";
      case ORDER_TIME_SPECIFIED_DAY: return "SPECIFIED_DAY";
     }
   return "GTC";
  }

ENUM_ORDER_TYPE_TIME TimeInForceOf(const string tif)
  {
   if(tif=="DAY")
      return ORDER_TIME_DAY;
   if(tif=="SPECIFIED")
      return ORDER_TIME_SPECIFIED;
   if(tif=="SPECIFIED_DAY")
      return ORDER_TIME_SPECIFIED_DAY;
   return ORDER_TIME_GTC;
  }

//--- ORDER_FILLING_* -> FOK | IOC | RETURN; "" for a policy the protocol does not name
string FillingName(const long filling)
  {
   switch((int)filling)
     {
      case ORDER_FILLING_FOK:    return "FOK";
      case ORDER_FILLING_IOC:    return "IOC";
      case ORDER_FILLING_RETURN: return "RETURN";
     }
   return "";
  }

ENUM_ORDER_TYPE_FILLING FillingOf(const string filling)
  {
   if(filling=="IOC")
      return ORDER_FILLING_IOC;
   if(filling=="RETURN")
      return ORDER_FILLING_RETURN;
   return ORDER_FILLING_FOK;
  }

//--- the filling policies a symbol allows, in the order FOK, IOC, RETURN: FOK and IOC
//--- by SYMBOL_FILLING_MODE's flags; RETURN in every execution mode but Market
int SymbolFillings(const string symbol,string &out[])
  {
   ArrayResize(out,0);
   long mode=SymbolInfoInteger(symbol,SYMBOL_FILLING_MODE);
   long execution=SymbolInfoInteger(symbol,SYMBOL_TRADE_EXEMODE);
   int n=0;
   if((mode & SYMBOL_FILLING_FOK)!=0)
     {
      ArrayResize(out,n+1);
      out[n++]="FOK";
     }
   if((mode & SYMBOL_FILLING_IOC)!=0)
     {
      ArrayResize(out,n+1);
      out[n++]="IOC";
     }
   if(execution!=SYMBOL_TRADE_EXECUTION_MARKET)
     {
      ArrayResize(out,n+1);
      out[n++]="RETURN";
     }
   return n;
  }

//--- the default filling: the first of FOK, IOC, RETURN that the symbol allows
string DefaultFilling(const string symbol)
  {
   string allowed[];
   if(SymbolFillings(symbol,allowed)>0)
      return allowed[0];
   return "FOK";
  }

//--- read an order property from the open order selected by OrderSelect, or from the
//--- history (after HistoryOrderSelect or HistorySelect)
long OInt(const bool history,const ulong ticket,const ENUM_ORDER_PROPERTY_INTEGER p)
  {
   if(history)
      return HistoryOrderGetInteger(ticket,p);
   return OrderGetInteger(p);
  }

double ODbl(const bool history,const ulong ticket,const ENUM_ORDER_PROPERTY_DOUBLE p)
  {
   if(history)
      return HistoryOrderGetDouble(ticket,p);
   return OrderGetDouble(p);
  }

string OStr(const bool history,const ulong ticket,const ENUM_ORDER_PROPERTY_STRING p)
  {
   if(history)
      return HistoryOrderGetString(ticket,p);
   return OrderGetString(p);
  }

//--- the order object. The order is selected: open (OrderSelect) or `history`.
JValue *OrderObject(const ulong ticket,const bool history)
  {
   //--- read every property first: lookups below may change the selection
   string symbol     =OStr(history,ticket,ORDER_SYMBOL);
   string comment    =OStr(history,ticket,ORDER_COMMENT);
   long   type       =OInt(history,ticket,ORDER_TYPE);
   long   state      =OInt(history,ticket,ORDER_STATE);
   long   typeTime   =OInt(history,ticket,ORDER_TYPE_TIME);
   long   filling    =OInt(history,ticket,ORDER_TYPE_FILLING);
   long   expiration =OInt(history,ticket,ORDER_TIME_EXPIRATION);
   long   setupMs    =OInt(history,ticket,ORDER_TIME_SETUP_MSC);
   long   doneMs     =OInt(history,ticket,ORDER_TIME_DONE_MSC);
   long   positionId =OInt(history,ticket,ORDER_POSITION_ID);
   long   magic      =OInt(history,ticket,ORDER_MAGIC);
   double volInitial =ODbl(history,ticket,ORDER_VOLUME_INITIAL);
   double volCurrent =ODbl(history,ticket,ORDER_VOLUME_CURRENT);
   double priceOpen  =ODbl(history,ticket,ORDER_PRICE_OPEN);
   double stopLimit  =ODbl(history,ticket,ORDER_PRICE_STOPLIMIT);
   double sl         =ODbl(history,ticket,ORDER_SL);
   double tp         =ODbl(history,ticket,ORDER_TP);

   string kind=OrderTypeName(type);
   string side="sell";
   if(type==ORDER_TYPE_BUY || type==ORDER_TYPE_BUY_LIMIT || type==ORDER_TYPE_BUY_STOP || type==ORDER_TYPE_BUY_STOP_LIMIT)
      side="buy";
   else if(type==ORDER_TYPE_CLOSE_BY)
     {
      //--- a close-by trades against the position it closes
      side="buy";
      if(positionId>0 && PositionSelectByTicket((ulong)positionId))
         side=(PositionGetInteger(POSITION_TYPE)==POSITION_TYPE_BUY) ? "sell" : "buy";
     }
   //--- price is the limit (a limit's open price, a stop-limit's stoplimit);
   //--- stop_price the trigger (a stop's or a stop-limit's open price)
   JValue *price=JNull();
   JValue *stopPrice=JNull();
   if(kind=="limit")
     {
      delete price;
      price=JPrice(symbol,priceOpen);
     }
   else if(kind=="stop")
     {
      delete stopPrice;
      stopPrice=JPrice(symbol,priceOpen);
     }
   else if(kind=="stop_limit")
     {
      delete price;
      delete stopPrice;
      price=JPrice(symbol,stopLimit);
      stopPrice=JPrice(symbol,priceOpen);
     }

   JValue *o=JObj();
   o.Set("ticket",JInt((long)ticket));
   o.Set("client_order_id",JClientOrderId(ticket,comment));
   o.Set("symbol",JStr(symbol));
   o.Set("side",JStr(side));
   o.Set("type",JStr(kind));
   o.Set("state",JStr(OrderStateName(state)));
   o.Set("volume_initial",JStr(FmtVolume(symbol,volInitial)));
   o.Set("volume_current",JStr(FmtVolume(symbol,volCurrent)));
   o.Set("price",price);
   o.Set("stop_price",stopPrice);
   o.Set("sl",JPrice(symbol,sl));
   o.Set("tp",JPrice(symbol,tp));
   o.Set("time_in_force",JStr(TimeInForceName(typeTime)));
   string fill=FillingName(filling);
   if(fill!="")
      o.Set("filling",JStr(fill));
   o.Set("expiration",JMsOrNull(expiration*1000));
   o.Set("time_setup",JInt(MaxL(setupMs,(long)0)));
   o.Set("time_done",JMsOrNull(doneMs));
   o.Set("position_id",JTicket((ulong)positionId));
   o.Set("magic",JInt(MaxL(magic,(long)0)));
   o.Set("comment",JStr(StringSubstr(comment,0,31)));
   return o;
  }

//--- an order by ticket: the open orders first, then the history; NULL when neither has it
JValue *OrderJson(const ulong ticket)
  {
   if(ticket==0)
      return NULL;
   if(OrderSelect(ticket))
      return OrderObject(ticket,false);
   if(HistoryOrderSelect(ticket))
      return OrderObject(ticket,true);
   return NULL;
  }

//--- an order's state by ticket ("" when it is not found)
string OrderStateOf(const ulong ticket)
  {
   if(ticket==0)
      return "";
   if(OrderSelect(ticket))
      return OrderStateName(OrderGetInteger(ORDER_STATE));
   if(HistoryOrderSelect(ticket))
      return OrderStateName(HistoryOrderGetInteger(ticket,ORDER_STATE));
   return "";
  }

string DealEntryName(const long entry)
  {
   switch((int)entry)
     {
      case DEAL_ENTRY_OUT:    return "out";
      case DEAL_ENTRY_INOUT:  return "inout";
      case DEAL_ENTRY_OUT_BY: return "out_by";
     }
   return "in";
  }

string DealReasonName(const long reason)
  {
   switch((int)reason)
     {
      case DEAL_REASON_MOBILE:   return "mobile";
      case DEAL_REASON_WEB:      return "web";
      case DEAL_REASON_EXPERT:   return "expert";
      case DEAL_REASON_SL:       return "sl";
      case DEAL_REASON_TP:       return "tp";
      case DEAL_REASON_SO:       return "so";
      case DEAL_REASON_ROLLOVER: return "rollover";
      case DEAL_REASON_VMARGIN:  return "vmargin";
      case DEAL_REASON_SPLIT:    return "split";
     }
   //--- DEAL_REASON_CLIENT, and any reason the protocol does not name
   return "client";
  }

//--- a deal that is a trade (a buy or a sell), not a balance operation
bool IsTradeDeal(const ulong deal)
  {
   long type=HistoryDealGetInteger(deal,DEAL_TYPE);
   return type==DEAL_TYPE_BUY || type==DEAL_TYPE_SELL;
  }

//--- the deal object; the deal is in the history cache (HistoryDealSelect or
//--- HistorySelect). NULL for a deal that is not a trade.
JValue *DealObject(const ulong deal)
  {
   long   type      =HistoryDealGetInteger(deal,DEAL_TYPE);
   if(type!=DEAL_TYPE_BUY && type!=DEAL_TYPE_SELL)
      return NULL;
   string symbol    =HistoryDealGetString(deal,DEAL_SYMBOL);
   string comment   =HistoryDealGetString(deal,DEAL_COMMENT);
   long   order     =HistoryDealGetInteger(deal,DEAL_ORDER);
   long   positionId=HistoryDealGetInteger(deal,DEAL_POSITION_ID);
   long   entry     =HistoryDealGetInteger(deal,DEAL_ENTRY);
   long   reason    =HistoryDealGetInteger(deal,DEAL_REASON);
   long   timeMs    =HistoryDealGetInteger(deal,DEAL_TIME_MSC);
   long   magic     =HistoryDealGetInteger(deal,DEAL_MAGIC);
   double price     =HistoryDealGetDouble(deal,DEAL_PRICE);
   double volume    =HistoryDealGetDouble(deal,DEAL_VOLUME);
   double commission=HistoryDealGetDouble(deal,DEAL_COMMISSION);
   double swap      =HistoryDealGetDouble(deal,DEAL_SWAP);
   double fee       =HistoryDealGetDouble(deal,DEAL_FEE);
   double profit    =HistoryDealGetDouble(deal,DEAL_PROFIT);

   JValue *d=JObj();
   d.Set("ticket",JInt((long)deal));
   d.Set("order",JTicket((ulong)order));
   d.Set("position_id",JTicket((ulong)positionId));
   d.Set("client_order_id",JClientOrderId((ulong)order,comment));
   d.Set("symbol",JStr(symbol));
   d.Set("side",JStr(type==DEAL_TYPE_BUY ? "buy" : "sell"));
   d.Set("entry",JStr(DealEntryName(entry)));
   d.Set("reason",JStr(DealReasonName(reason)));
   d.Set("price",JStr(FmtPrice(symbol,price)));
   d.Set("volume",JStr(FmtVolume(symbol,volume)));
   d.Set("commission",JStr(FmtMoney(commission)));
   d.Set("swap",JStr(FmtMoney(swap)));
   d.Set("fee",JStr(FmtMoney(fee)));
   d.Set("profit",JStr(FmtMoney(profit)));
   d.Set("time",JInt(MaxL(timeMs,(long)0)));
   d.Set("magic",JInt(MaxL(magic,(long)0)));
   return d;
  }

//--- select a position by its id (POSITION_IDENTIFIER, the ticket of the order that
//--- opened it) or by its ticket; false when no open position has it
bool SelectPosition(const ulong id)
  {
   if(id==0)
      return false;
   if(PositionSelectByTicket(id) && (ulong)PositionGetInteger(POSITION_IDENTIFIER)==id)
      return true;
   for(int i=PositionsTotal()-1;i>=0;i--)
     {
      ulong ticket=PositionGetTicket(i);
      if(ticket>0 && (ulong)PositionGetInteger(POSITION_IDENTIFIER)==id)
         return true;
     }
   return PositionSelectByTicket(id);
  }

//--- the position object, of the selected position. `ticket` is the position id.
JValue *PositionObject(void)
  {
   string symbol    =PositionGetString(POSITION_SYMBOL);
   string comment   =PositionGetString(POSITION_COMMENT);
   long   id        =PositionGetInteger(POSITION_IDENTIFIER);
   long   type      =PositionGetInteger(POSITION_TYPE);
   long   timeMs    =PositionGetInteger(POSITION_TIME_MSC);
   long   magic     =PositionGetInteger(POSITION_MAGIC);
   double volume    =PositionGetDouble(POSITION_VOLUME);
   double priceOpen =PositionGetDouble(POSITION_PRICE_OPEN);
   double priceNow  =PositionGetDouble(POSITION_PRICE_CURRENT);
   double sl        =PositionGetDouble(POSITION_SL);
   double tp        =PositionGetDouble(POSITION_TP);
   double swap      =PositionGetDouble(POSITION_SWAP);
   double profit    =PositionGetDouble(POSITION_PROFIT);

   JValue *p=JObj();
   p.Set("ticket",JInt(id));
   p.Set("symbol",JStr(symbol));
   p.Set("side",JStr(type==POSITION_TYPE_BUY ? "buy" : "sell"));
   p.Set("volume",JStr(FmtVolume(symbol,volume)));
   p.Set("price_open",JStr(FmtPrice(symbol,priceOpen)));
   p.Set("price_current",JStr(FmtPrice(symbol,priceNow)));
   p.Set("sl",JPrice(symbol,sl));
   p.Set("tp",JPrice(symbol,tp));
   p.Set("swap",JStr(FmtMoney(swap)));
   p.Set("profit",JStr(FmtMoney(profit)));
   p.Set("time",JInt(MaxL(timeMs,(long)0)));
   p.Set("magic",JInt(MaxL(magic,(long)0)));
   p.Set("client_order_id",JClientOrderId((ulong)id,comment));
   return p;
  }

string MarginModeName(void)
  {
   long mode=AccountInfoInteger(ACCOUNT_MARGIN_MODE);
   if(mode==ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
      return "hedging";
   if(mode==ACCOUNT_MARGIN_MODE_EXCHANGE)
      return "exchange";
   return "netting";
  }

bool IsHedging(void)
  {
   return AccountInfoInteger(ACCOUNT_MARGIN_MODE)==ACCOUNT_MARGIN_MODE_RETAIL_HEDGING;
  }

//--- whether this EA may trade now: the account, the account's experts, the terminal, the EA
bool TradeAllowed(void)
  {
   return AccountInfoInteger(ACCOUNT_TRADE_ALLOWED)!=0 &&
          AccountInfoInteger(ACCOUNT_TRADE_EXPERT)!=0 &&
          TerminalInfoInteger(TERMINAL_TRADE_ALLOWED)!=0 &&
          MQLInfoInteger(MQL_TRADE_ALLOWED)!=0;
  }

JValue *AccountObject(void)
  {
   double margin=AccountInfoDouble(ACCOUNT_MARGIN);
   JValue *a=JObj();
   a.Set("login",JInt(AccountInfoInteger(ACCOUNT_LOGIN)));
   a.Set("server",JStr(AccountInfoString(ACCOUNT_SERVER)));
   a.Set("company",JStr(AccountInfoString(ACCOUNT_COMPANY)));
   a.Set("currency",JStr(AccountInfoString(ACCOUNT_CURRENCY)));
   a.Set("margin_mode",JStr(MarginModeName()));
   a.Set("leverage",JInt(MaxL(AccountInfoInteger(ACCOUNT_LEVERAGE),(long)1)));
   a.Set("balance",JStr(FmtMoney(AccountInfoDouble(ACCOUNT_BALANCE))));
   a.Set("equity",JStr(FmtMoney(AccountInfoDouble(ACCOUNT_EQUITY))));
   a.Set("margin",JStr(FmtMoney(margin)));
   a.Set("margin_free",JStr(FmtMoney(AccountInfoDouble(ACCOUNT_MARGIN_FREE))));
   if(margin==0.0)
      a.Set("margin_level",JNull());
   else
      a.Set("margin_level",JStr(FmtMoney(AccountInfoDouble(ACCOUNT_MARGIN_LEVEL))));
   a.Set("trade_allowed",JBool(TradeAllowed()));
   return a;
  }

string TradeModeName(const long mode)
  {
   switch((int)mode)
     {
      case SYMBOL_TRADE_MODE_DISABLED:  return "disabled";
      case SYMBOL_TRADE_MODE_LONGONLY:  return "long_only";
      case SYMBOL_TRADE_MODE_SHORTONLY: return "short_only";
      case SYMBOL_TRADE_MODE_CLOSEONLY: return "close_only";
     }
   return "full";
  }

//--- a session bound (seconds from the day's start) in minutes, 0..1440
long SessionMinutes(const datetime t)
  {
   long minutes=(long)t/60;
   if(minutes<0)
      return 0;
   if(minutes>1440)
      return 1440;
   return minutes;
  }

JValue *SymbolObject(const string symbol)
  {
   int digits=SymbolDigits(symbol);
   int volDigits=VolumeDecimals(symbol);
   double point=SymbolInfoDouble(symbol,SYMBOL_POINT);
   double tickSize=SymbolInfoDouble(symbol,SYMBOL_TRADE_TICK_SIZE);

   JValue *s=JObj();
   s.Set("symbol",JStr(symbol));
   s.Set("digits",JInt(digits));
   s.Set("point",JStr(FmtFixed(point,digits)));
   if(tickSize>0.0)
      s.Set("tick_size",JStr(FmtFixed(tickSize,(int)MaxL(digits,StepDecimals(tickSize)))));
   s.Set("contract_size",JStr(FmtPlain(SymbolInfoDouble(symbol,SYMBOL_TRADE_CONTRACT_SIZE))));
   s.Set("volume_min",JStr(FmtFixed(SymbolInfoDouble(symbol,SYMBOL_VOLUME_MIN),volDigits)));
   s.Set("volume_step",JStr(FmtFixed(SymbolInfoDouble(symbol,SYMBOL_VOLUME_STEP),volDigits)));
   s.Set("volume_max",JStr(FmtFixed(SymbolInfoDouble(symbol,SYMBOL_VOLUME_MAX),volDigits)));
   s.Set("stops_level",JInt(MaxL(SymbolInfoInteger(symbol,SYMBOL_TRADE_STOPS_LEVEL),(long)0)));
   s.Set("freeze_level",JInt(MaxL(SymbolInfoInteger(symbol,SYMBOL_TRADE_FREEZE_LEVEL),(long)0)));
   s.Set("currency_base",JStr(SymbolInfoString(symbol,SYMBOL_CURRENCY_BASE)));
   s.Set("currency_profit",JStr(SymbolInfoString(symbol,SYMBOL_CURRENCY_PROFIT)));
   s.Set("currency_margin",JStr(SymbolInfoString(symbol,SYMBOL_CURRENCY_MARGIN)));
   string fillings[];
   int n=SymbolFillings(symbol,fillings);
   JValue *modes=JArr();
   for(int i=0;i<n;i++)
      modes.Add(JStr(fillings[i]));
   s.Set("filling_modes",modes);
   s.Set("trade_mode",JStr(TradeModeName(SymbolInfoInteger(symbol,SYMBOL_TRADE_MODE))));
   JValue *sessions=JArr();
   for(int day=0;day<7;day++)
     {
      datetime from,to;
      for(uint k=0;k<32 && SymbolInfoSessionTrade(symbol,(ENUM_DAY_OF_WEEK)day,k,from,to);k++)
        {
         long fromMin=SessionMinutes(from);
         long toMin=SessionMinutes(to);
         if(toMin<=fromMin)
            toMin=1440;                         // a session that runs to midnight
         JValue *one=JObj();
         one.Set("day",JInt(day));
         one.Set("from",JInt(fromMin));
         one.Set("to",JInt(toMin));
         sessions.Add(one);
        }
     }
   s.Set("sessions",sessions);
   return s;
  }

//+------------------------------------------------------------------+
//| 7. Commands                                                      |
//|                                                                  |
//| A handler takes `args` (an object) and answers the result object |
//| or NULL, the error then being in g_err. Arguments are checked as |
//| the schema's args_<cmd> says: a frame that does not meet it is   |
//| BAD_REQUEST, and nothing happens.                                |
//+------------------------------------------------------------------+
//--- only the named members (comma-separated)
bool ArgKeys(JValue *args,const string allowed)
  {
   string names[];
   int n=StringSplit(allowed,',',names);
   for(int i=0;i<args.count;i++)
     {
      bool ok=false;
      for(int j=0;j<n && !ok;j++)
         ok=(args.keys[i]==names[j]);
      if(!ok)
         return BadRequest("unexpected argument "+args.keys[i]);
     }
   return true;
  }

//--- a string of 1..maxLength characters; "" when absent and not required
bool ArgString(JValue *args,const string key,const bool required,const int maxLength,string &out)
  {
   out="";
   JValue *v=args.Get(key);
   if(v==NULL)
      return required ? BadRequest(key+" is required") : true;
   if(!v.IsString() || StringLen(v.text)<1 || StringLen(v.text)>maxLength)
      return BadRequest(key+" must be a string of 1 to "+IntegerToString(maxLength)+" characters");
   out=v.text;
   return true;
  }

//--- a client order id: 1..64 of A-Z a-z 0-9 . _ : -
bool ArgClientOrderId(JValue *args,const string key,const bool required,string &out)
  {
   out="";
   JValue *v=args.Get(key);
   if(v==NULL)
      return required ? BadRequest(key+" is required") : true;
   if(!v.IsString() || !IsIdText(v.text,64))
      return BadRequest(key+" must be 1 to 64 of A-Z a-z 0-9 . _ : -");
   out=v.text;
   return true;
  }

//--- one of the comma-separated values
bool ArgEnum(JValue *args,const string key,const bool required,const string allowed,string &out)
  {
   out="";
   JValue *v=args.Get(key);
   if(v==NULL)
      return required ? BadRequest(key+" is required") : true;
   if(v.IsString())
     {
      string names[];
      int n=StringSplit(allowed,',',names);
      for(int i=0;i<n;i++)
         if(v.text==names[i])
           {
            out=v.text;
            return true;
           }
     }
   return BadRequest(key+" must be one of "+allowed);
  }

//--- an integer >= minimum (and < 2^53); `out` keeps its default when absent
bool ArgInt(JValue *args,const string key,const bool required,const long minimum,long &out)
  {
   JValue *v=args.Get(key);
   if(v==NULL)
      return required ? BadRequest(key+" is required") : true;
   if(!v.IsInteger() || StringLen(v.text)>16)
      return BadRequest(key+" must be an integer");
   long n=v.AsLong();
   if(n<minimum || n>9007199254740991)
      return BadRequest(key+" must be at least "+IntegerToString(minimum));
   out=n;
   return true;
  }

//--- a positive decimal as a string ("0.10"); "" when absent
bool ArgDecimal(JValue *args,const string key,const bool required,string &out)
  {
   out="";
   JValue *v=args.Get(key);
   if(v==NULL)
      return required ? BadRequest(key+" is required") : true;
   if(!v.IsString() || !IsPositiveDecimalText(v.text))
      return BadRequest(key+" must be a positive decimal string, such as \"0.10\"");
   out=v.text;
   return true;
  }

//--- a price as the symbol's double
double PriceOf(const string symbol,const string text)
  {
   return NormalizeDouble(StringToDouble(text),SymbolDigits(symbol));
  }

bool SymbolKnown(const string symbol)
  {
   bool custom=false;
   return SymbolExist(symbol,custom);
  }

//--- the market's side a deal trades at: the ask for a buy, the bid for a sell
double TouchPrice(const string symbol,const bool buy)
  {
   MqlTick tick;
   if(!SymbolInfoTick(symbol,tick))
      return 0.0;
   return buy ? tick.ask : tick.bid;
  }

//+------------------------------------------------------------------+
//| hello, ping, get_symbols, get_quotes                             |
//+------------------------------------------------------------------+
JValue *CmdHello(JValue *args)
  {
   if(!ArgKeys(args,"client,versions"))
      return NULL;
   JValue *client=args.Get("client");
   if(client!=NULL && (!client.IsString() || StringLen(client.text)>64))
     {
      BadRequest("client must be a string of at most 64 characters");
      return NULL;
     }
   JValue *versions=args.Get("versions");
   if(versions!=NULL)
     {
      if(!versions.IsArray())
        {
         BadRequest("versions must be an array of integers");
         return NULL;
        }
      bool speaks=false;
      for(int i=0;i<versions.Size();i++)
        {
         JValue *x=versions.At(i);
         if(!x.IsInteger() || x.AsLong()<1)
           {
            BadRequest("versions must be an array of integers");
            return NULL;
           }
         if(x.AsLong()==OG_VERSION)
            speaks=true;
        }
      if(!speaks)
         return Err("UNSUPPORTED_VERSION","this EA speaks version "+IntegerToString(OG_VERSION));
     }
   long now=ServerMs();
   JValue *r=JObj();
   r.Set("version",JInt(OG_VERSION));
   r.Set("ea",JStr(OG_EA_NAME));
   r.Set("session",JStr(g_session));
   r.Set("last_seq",JInt(g_seq));
   r.Set("account",AccountObject());
   r.Set("server_time",JInt(now));
   r.Set("gmt_offset_s",JInt((long)(TimeTradeServer()-TimeGMT())));
   r.Set("ring",JInt(g_ringSize));
   r.Set("terminal_connected",JBool(TerminalConnected()));
   return r;
  }

JValue *CmdPing(JValue *args)
  {
   if(!ArgKeys(args,""))
      return NULL;
   JValue *r=JObj();
   r.Set("server_time",JInt(ServerMs()));
   r.Set("terminal_connected",JBool(TerminalConnected()));
   return r;
  }

//--- the `symbols` argument of get_symbols and get_quotes: the names asked for, or every
//--- symbol of the Market Watch when absent. -1 when refused (the error is set).
int SymbolNamesArg(JValue *args,string &names[])
  {
   if(!ArgKeys(args,"symbols"))
      return -1;
   int n=0;
   JValue *list=args.Get("symbols");
   if(list!=NULL)
     {
      if(!list.IsArray())
        {
         BadRequest("symbols must be an array of symbol names");
         return -1;
        }
      for(int i=0;i<list.Size();i++)
        {
         JValue *x=list.At(i);
         if(!x.IsString() || StringLen(x.text)<1 || StringLen(x.text)>32)
           {
            BadRequest("symbols must be an array of symbol names");
            return -1;
           }
         for(int j=0;j<n;j++)
            if(names[j]==x.text)
              {
               BadRequest("symbols must not repeat a name");
               return -1;
              }
         ArrayResize(names,n+1);
         names[n++]=x.text;
        }
     }
   if(n==0)
     {
      //--- all traded: the symbols of the Market Watch
      int total=SymbolsTotal(true);
      ArrayResize(names,total);
      for(int i=0;i<total;i++)
         names[i]=SymbolName(i,true);
      return total;
     }
   for(int i=0;i<n;i++)
      if(!SymbolKnown(names[i]))
        {
         Err("NOT_FOUND","no symbol "+names[i]);
         return -1;
        }
   return n;
  }

JValue *CmdGetSymbols(JValue *args)
  {
   string names[];
   int n=SymbolNamesArg(args,names);
   if(n<0)
      return NULL;
   JValue *symbols=JArr();
   for(int i=0;i<n;i++)
      symbols.Add(SymbolObject(names[i]));
   JValue *r=JObj();
   r.Set("symbols",symbols);
   return r;
  }

//--- SymbolInfoTick per symbol; a symbol with no tick yet is left out
JValue *CmdGetQuotes(JValue *args)
  {
   string names[];
   int n=SymbolNamesArg(args,names);
   if(n<0)
      return NULL;
   JValue *quotes=JArr();
   for(int i=0;i<n;i++)
     {
      MqlTick tick;
      if(!SymbolInfoTick(names[i],tick) || tick.bid<=0.0 || tick.ask<=0.0)
         continue;
      JValue *q=JObj();
      q.Set("symbol",JStr(names[i]));
      q.Set("bid",JStr(FmtPrice(names[i],tick.bid)));
      q.Set("ask",JStr(FmtPrice(names[i],tick.ask)));
      q.Set("last",tick.last>0.0 ? JStr(FmtPrice(names[i],tick.last)) : JNull());
      q.Set("time",JInt(tick.time_msc));
      quotes.Add(q);
     }
   JValue *r=JObj();
   r.Set("quotes",quotes);
   return r;
  }

//+------------------------------------------------------------------+
//| Sending once (docs/mt5-bridge.md, "Idempotency")                 |
//+------------------------------------------------------------------+
//--- not sent: BUSY with the retcode MT5 would have given
JValue *ErrBusy(const uint retcode,const string message)
  {
   JValue *e=ErrorObject("BUSY",message);
   e.Set("retcode",JRetcode(retcode));
   e.Set("retcode_name",JStr(RetcodeName(retcode)));
   return FailWith(e);
  }

//--- whether a trade request can be sent now; else the command fails BUSY, and nothing
//--- is recorded, so the same request may be sent again later
bool CanSend(void)
  {
   if(!TerminalConnected())
     {
      ErrBusy(10031,"no connection to the trade server");
      return false;
     }
   if(TerminalInfoInteger(TERMINAL_TRADE_ALLOWED)==0 || MQLInfoInteger(MQL_TRADE_ALLOWED)==0)
     {
      ErrBusy(10027,"algorithmic trading is disabled in the terminal or for this EA");
      return false;
     }
   if(AccountInfoInteger(ACCOUNT_TRADE_EXPERT)==0)
     {
      ErrBusy(10026,"the trade server disables expert advisors on this account");
      return false;
     }
   return true;
  }

//--- the bid and ask of a reply: the result's, else the current quote
void ReplyQuote(const MqlTradeResult &res,const string symbol,JValue *r)
  {
   double bid=res.bid;
   double ask=res.ask;
   MqlTick tick;
   if((bid==0.0 || ask==0.0) && SymbolInfoTick(symbol,tick))
     {
      if(bid==0.0)
         bid=tick.bid;
      if(ask==0.0)
         ask=tick.ask;
     }
   r.Set("bid",JPrice(symbol,bid));
   r.Set("ask",JPrice(symbol,ask));
  }

//--- the reply to an order the trade server took (ok): result_submit_order
JValue *SubmittedReply(const MqlTradeResult &res,const string symbol,const bool market)
  {
   //--- the order's state as the terminal knows it; right after a synchronous OrderSend
   //--- the terminal may still list it as it was, so the retcode decides then
   string state=OrderStateOf(res.order);
   if(market && (state=="" || IsOpenState(state)) && res.retcode==10009)
      state="filled";
   else if(!market && (state=="" || state=="started" || state=="request_add"))
      state="placed";
   else if(state=="")
      state=(res.retcode==10010) ? "partial" : "placed";
   JValue *r=JObj();
   r.Set("ticket",JInt((long)res.order));
   r.Set("duplicate",JBool(false));
   r.Set("state",JStr(state));
   r.Set("retcode",JRetcode(res.retcode));
   r.Set("retcode_name",JStr(RetcodeName(res.retcode)));
   r.Set("deal",JTicket(res.deal));
   r.Set("volume",JStr(FmtVolume(symbol,res.volume)));
   r.Set("price",JPrice(symbol,res.price));
   ReplyQuote(res,symbol,r);
   return r;
  }

//--- a repeat of a known id sends nothing: the first answer again, duplicate true
JValue *Repeat(const int slot)
  {
   string state=g_idState[slot];
   if(state==ID_DONE && g_idReply[slot]!=NULL)
     {
      JValue *r=g_idReply[slot].Clone();
      r.Set("duplicate",JBool(true));
      string now=OrderStateOf(g_idTicket[slot]);
      if(now!="")
         r.Set("state",JStr(now));
      return r;
     }
   if(state==ID_REFUSED && g_idReply[slot]!=NULL)
     {
      JValue *e=g_idReply[slot].Clone();
      e.Set("duplicate",JBool(true));
      return FailWith(e);
     }
   //--- "sending": the EA stopped, or the server did not answer, between the two records.
   //--- Look for the token in the orders, the positions and the history.
   ulong ticket=g_idTicket[slot];
   if(ticket==0)
      ticket=FindOrderByToken(g_idToken[slot],g_idTime[slot]);
   if(ticket==0)
      return Err("UNKNOWN_OUTCOME","sent before, and neither an answer nor the order was found: ask get_order");
   string found=OrderStateOf(ticket);
   if(found=="")
      found="filled";   // known only by its position or its deal: it traded
   JValue *r=JObj();
   r.Set("ticket",JInt((long)ticket));
   r.Set("duplicate",JBool(false));
   r.Set("state",JStr(found));
   r.Set("retcode",JInt(10009));
   r.Set("retcode_name",JStr(RetcodeName(10009)));
   r.Set("deal",JNull());
   r.Set("volume",JNull());
   r.Set("price",JNull());
   r.Set("bid",JNull());
   r.Set("ask",JNull());
   //--- the order is found: record it, so the next repeat and the events know its id
   IdsOutcome(g_idCoid[slot],ID_DONE,ticket,r);
   r.Set("duplicate",JBool(true));
   return r;
  }

//--- send `req` for `coid` unless that id was sent before
JValue *SendOnce(const string coid,MqlTradeRequest &req,const bool market)
  {
   int slot=IdsFind(coid);
   if(slot>=0)
      return Repeat(slot);
   if(!CanSend())
      return NULL;
   //--- step 1: durably "sending", before anything leaves
   if(!IdsSending(coid))
      return Err("INTERNAL","the id file could not be written: nothing was sent");
   MqlTradeResult res;
   ZeroMemory(res);
   ResetLastError();
   bool sent=OrderSend(req,res);
   int error=GetLastError();
   if(res.retcode==0)
     {
      //--- no retcode at all: whether the request reached the server is not known.
      //--- The id stays "sending"; a repeat looks for the token.
      return Err("UNKNOWN_OUTCOME",StringFormat("OrderSend returned %s with error %d and no retcode: ask get_order before sending again",
                                                sent ? "true" : "false",error));
     }
   string outcome=OutcomeOf(res.retcode);
   if(outcome==OUT_OK)
     {
      if(res.order==0)
         return Err("UNKNOWN_OUTCOME","the trade server answered "+RetcodeName(res.retcode)+
                    " without an order ticket: ask get_order before sending again");
      //--- step 2: the ticket and the reply
      JValue *reply=SubmittedReply(res,req.symbol,market);
      IdsOutcome(coid,ID_DONE,res.order,reply);
      return reply;
     }
   JValue *e=RefusalObject(res,req.symbol);
   if(outcome==OUT_BUSY)
      IdsForget(coid);                       // not sent: the id may be sent again
   else if(outcome!=OUT_UNKNOWN)
      IdsOutcome(coid,ID_REFUSED,0,e);       // terminal for this id
   //--- an unknown outcome leaves the id "sending"
   return FailWith(e);
  }

//+------------------------------------------------------------------+
//| submit_order                                                     |
//+------------------------------------------------------------------+
JValue *CmdSubmitOrder(JValue *args)
  {
   if(!ArgKeys(args,"client_order_id,symbol,side,type,volume,price,stop_price,sl,tp,time_in_force,expiration,filling,deviation,magic,position"))
      return NULL;
   string coid,symbol,side,type,volume,price,stopPrice,sl,tp,tif,filling;
   long expiration=0;
   long deviation=InpDefaultDeviation;
   long magic=InpDefaultMagic;
   long position=0;
   if(!ArgClientOrderId(args,"client_order_id",true,coid) ||
      !ArgString(args,"symbol",true,32,symbol) ||
      !ArgEnum(args,"side",true,"buy,sell",side) ||
      !ArgEnum(args,"type",true,"market,limit,stop,stop_limit",type) ||
      !ArgDecimal(args,"volume",true,volume) ||
      !ArgDecimal(args,"price",false,price) ||
      !ArgDecimal(args,"stop_price",false,stopPrice) ||
      !ArgDecimal(args,"sl",false,sl) ||
      !ArgDecimal(args,"tp",false,tp) ||
      !ArgEnum(args,"time_in_force",false,"GTC,DAY,SPECIFIED,SPECIFIED_DAY",tif) ||
      !ArgInt(args,"expiration",false,0,expiration) ||
      !ArgEnum(args,"filling",false,"FOK,IOC,RETURN",filling) ||
      !ArgInt(args,"deviation",false,0,deviation) ||
      !ArgInt(args,"magic",false,0,magic) ||
      !ArgInt(args,"position",false,1,position))
      return NULL;
   //--- what each type takes: price is the limit, stop_price the trigger
   if((type=="limit" || type=="stop_limit") && price=="")
      return Err("BAD_REQUEST","a "+type+" order needs price (the limit)");
   if((type=="stop" || type=="stop_limit") && stopPrice=="")
      return Err("BAD_REQUEST","a "+type+" order needs stop_price (the trigger)");
   if(type=="stop" && price!="")
      return Err("BAD_REQUEST","a stop order has no limit price: its trigger is stop_price");
   if((type=="market" || type=="limit") && stopPrice!="")
      return Err("BAD_REQUEST","stop_price is the trigger of a stop or stop_limit order");
   if(type!="market" && position>0)
      return Err("BAD_REQUEST","position names the position a market deal closes");
   if(!SymbolKnown(symbol))
      return Err("BAD_REQUEST","no symbol "+symbol);
   SymbolSelect(symbol,true);

   bool buy=(side=="buy");
   MqlTradeRequest req;
   ZeroMemory(req);
   req.symbol=symbol;
   req.volume=StringToDouble(volume);
   req.magic=(ulong)magic;
   req.deviation=(ulong)deviation;
   req.comment=TokenOf(coid);
   req.type_filling=FillingOf(filling!="" ? filling : DefaultFilling(symbol));
   if(sl!="")
      req.sl=PriceOf(symbol,sl);
   if(tp!="")
      req.tp=PriceOf(symbol,tp);
   if(type=="market")
     {
      req.action=TRADE_ACTION_DEAL;
      req.type=buy ? ORDER_TYPE_BUY : ORDER_TYPE_SELL;
      //--- the price a deviation is counted from: the client's, else the touch
      req.price=(price!="") ? PriceOf(symbol,price) : TouchPrice(symbol,buy);
      req.type_time=ORDER_TIME_GTC;
      if(position>0)
         req.position=(ulong)position;
     }
   else
     {
      req.action=TRADE_ACTION_PENDING;
      if(type=="limit")
        {
         req.type=buy ? ORDER_TYPE_BUY_LIMIT : ORDER_TYPE_SELL_LIMIT;
         req.price=PriceOf(symbol,price);
        }
      else if(type=="stop")
        {
         req.type=buy ? ORDER_TYPE_BUY_STOP : ORDER_TYPE_SELL_STOP;
         req.price=PriceOf(symbol,stopPrice);
        }
      else
        {
         //--- a stop-limit: `price` of MT5's request is the trigger, `stoplimit` the limit
         req.type=buy ? ORDER_TYPE_BUY_STOP_LIMIT : ORDER_TYPE_SELL_STOP_LIMIT;
         req.price=PriceOf(symbol,stopPrice);
         req.stoplimit=PriceOf(symbol,price);
        }
      req.type_time=TimeInForceOf(tif);
      if(expiration>0)
         req.expiration=(datetime)(expiration/1000);
     }
   return SendOnce(coid,req,type=="market");
  }

//+------------------------------------------------------------------+
//| close_position, close_all                                        |
//+------------------------------------------------------------------+
//--- close `volume` ("" for all) of position `id` as client order `coid`. Hedging: an
//--- opposite deal that carries `position`. Netting: an opposite deal on the symbol.
JValue *ClosePosition(const ulong id,const string coid,const string volume,const long deviation,const long magic)
  {
   int slot=IdsFind(coid);
   if(slot>=0)
      return Repeat(slot);
   if(!SelectPosition(id))
      return Err("NOT_FOUND","no open position "+IntegerToString((long)id));
   string symbol=PositionGetString(POSITION_SYMBOL);
   ulong positionTicket=(ulong)PositionGetInteger(POSITION_TICKET);
   bool wasBuy=(PositionGetInteger(POSITION_TYPE)==POSITION_TYPE_BUY);
   double held=PositionGetDouble(POSITION_VOLUME);
   double amount=held;
   if(volume!="")
     {
      amount=StringToDouble(volume);
      double step=SymbolInfoDouble(symbol,SYMBOL_VOLUME_STEP);
      if(amount>held+step/2.0)
         return Err("BAD_REQUEST","volume "+volume+" is more than the position's "+FmtVolume(symbol,held)+
                    ": a close does not reverse a position");
     }
   SymbolSelect(symbol,true);
   MqlTradeRequest req;
   ZeroMemory(req);
   req.action=TRADE_ACTION_DEAL;
   req.symbol=symbol;
   req.volume=amount;
   req.type=wasBuy ? ORDER_TYPE_SELL : ORDER_TYPE_BUY;
   req.price=TouchPrice(symbol,!wasBuy);
   req.deviation=(ulong)deviation;
   req.magic=(ulong)magic;
   req.comment=TokenOf(coid);
   req.type_filling=FillingOf(DefaultFilling(symbol));
   req.type_time=ORDER_TIME_GTC;
   if(IsHedging())
      req.position=positionTicket;
   return SendOnce(coid,req,true);
  }

JValue *CmdClosePosition(JValue *args)
  {
   if(!ArgKeys(args,"ticket,client_order_id,volume,deviation,magic"))
      return NULL;
   long ticket=0;
   long deviation=InpDefaultDeviation;
   long magic=InpDefaultMagic;
   string coid,volume;
   if(!ArgInt(args,"ticket",true,1,ticket) ||
      !ArgClientOrderId(args,"client_order_id",true,coid) ||
      !ArgDecimal(args,"volume",false,volume) ||
      !ArgInt(args,"deviation",false,0,deviation) ||
      !ArgInt(args,"magic",false,0,magic))
      return NULL;
   JValue *r=ClosePosition((ulong)ticket,coid,volume,deviation,magic);
   if(r==NULL)
      return NULL;
   r.Set("position",JInt(ticket));
   return r;
  }

//--- the retcode a close_all entry reports for a failed close (the schema wants one)
uint CloseFailureRetcode(JValue *error)
  {
   JValue *rc=error.Get("retcode");
   if(rc!=NULL && rc.IsInteger())
      return (uint)rc.AsLong();
   JValue *code=error.Get("code");
   string c=(code!=NULL) ? code.text : "";
   if(c=="UNKNOWN_OUTCOME")
      return 10011;                          // ERROR: an unknown outcome
   if(c=="NOT_FOUND")
      return 10036;                          // POSITION_CLOSED
   return 10006;                             // REJECT
  }

JValue *CmdCloseAll(JValue *args)
  {
   if(!ArgKeys(args,"client_order_id_prefix,symbol,deviation"))
      return NULL;
   string prefix,symbol;
   long deviation=InpDefaultDeviation;
   JValue *p=args.Get("client_order_id_prefix");
   if(p==NULL || !p.IsString() || !IsIdText(p.text,40))
      return Err("BAD_REQUEST","client_order_id_prefix must be 1 to 40 of A-Z a-z 0-9 . _ : -");
   prefix=p.text;
   if(!ArgString(args,"symbol",false,32,symbol) ||
      !ArgInt(args,"deviation",false,0,deviation))
      return NULL;
   //--- the open positions, by id
   ulong ids[];
   int n=0;
   for(int i=PositionsTotal()-1;i>=0;i--)
     {
      ulong t=PositionGetTicket(i);
      if(t==0)
         continue;
      if(symbol!="" && PositionGetString(POSITION_SYMBOL)!=symbol)
         continue;
      ArrayResize(ids,n+1);
      ids[n++]=(ulong)PositionGetInteger(POSITION_IDENTIFIER);
     }
   if(n>1)
      ArraySort(ids);
   JValue *closes=JArr();
   for(int k=0;k<n;k++)
     {
      string coid=prefix+":"+IntegerToString((long)ids[k]);
      JValue *c=JObj();
      c.Set("position",JInt((long)ids[k]));
      c.Set("client_order_id",JStr(coid));
      JValue *r=ClosePosition(ids[k],coid,"",deviation,InpDefaultMagic);
      if(r!=NULL)
        {
         JValue *ticket=r.Get("ticket");
         JValue *duplicate=r.Get("duplicate");
         JValue *retcode=r.Get("retcode");
         JValue *name=r.Get("retcode_name");
         c.Set("ticket",ticket!=NULL ? ticket.Clone() : JNull());
         c.Set("duplicate",duplicate!=NULL ? duplicate.Clone() : JBool(false));
         c.Set("retcode",retcode!=NULL ? retcode.Clone() : JInt(10009));
         c.Set("retcode_name",name!=NULL ? name.Clone() : JStr(RetcodeName(10009)));
         delete r;
        }
      else
        {
         JValue *e=(g_err!=NULL) ? g_err : ErrorObject("INTERNAL","the close failed");
         JValue *ticket=e.Get("ticket");
         JValue *duplicate=e.Get("duplicate");
         uint rc=CloseFailureRetcode(e);
         c.Set("ticket",(ticket!=NULL && ticket.IsInteger()) ? ticket.Clone() : JNull());
         c.Set("duplicate",JBool(duplicate!=NULL && duplicate.IsBool() && duplicate.flag));
         c.Set("retcode",JInt(rc));
         c.Set("retcode_name",JStr(RetcodeName(rc)));
         if(e!=g_err)
            delete e;
         ClearError();
        }
      closes.Add(c);
     }
   JValue *result=JObj();
   result.Set("closes",closes);
   return result;
  }

//+------------------------------------------------------------------+
//| cancel_order, modify_order, get_order                            |
//+------------------------------------------------------------------+
//--- the order named by exactly one of client_order_id and ticket. `what` describes it
//--- for messages. NOT_FOUND when the client order id names no order.
bool OrderTarget(JValue *args,ulong &ticket,string &what)
  {
   ticket=0;
   bool byId=args.Has("client_order_id");
   bool byTicket=args.Has("ticket");
   if(byId==byTicket)
      return BadRequest("name the order by exactly one of client_order_id and ticket");
   if(byTicket)
     {
      long t=0;
      if(!ArgInt(args,"ticket",true,1,t))
         return false;
      ticket=(ulong)t;
      what="ticket "+IntegerToString(t);
      return true;
     }
   string coid;
   if(!ArgClientOrderId(args,"client_order_id",true,coid))
      return false;
   what="client_order_id "+coid;
   int slot=IdsFind(coid);
   if(slot>=0)
     {
      ticket=g_idTicket[slot];
      if(ticket==0 && g_idState[slot]==ID_SENDING)
         ticket=FindOrderByToken(g_idToken[slot],g_idTime[slot]);
     }
   if(ticket==0)
     {
      Err("NOT_FOUND","no order for "+what);
      return false;
     }
   return true;
  }

JValue *CmdCancelOrder(JValue *args)
  {
   if(!ArgKeys(args,"client_order_id,ticket"))
      return NULL;
   ulong ticket;
   string what;
   if(!OrderTarget(args,ticket,what))
      return NULL;
   if(OrderSelect(ticket))
     {
      string symbol=OrderGetString(ORDER_SYMBOL);
      if(!CanSend())
         return NULL;
      MqlTradeRequest req;
      ZeroMemory(req);
      req.action=TRADE_ACTION_REMOVE;
      req.order=ticket;
      req.symbol=symbol;
      MqlTradeResult res;
      ZeroMemory(res);
      ResetLastError();
      OrderSend(req,res);
      int error=GetLastError();
      if(res.retcode==0)
         return ErrTicket("UNKNOWN_OUTCOME",StringFormat("OrderSend failed with error %d and no retcode: ask get_order",error),ticket);
      if(OutcomeOf(res.retcode)!=OUT_OK)
        {
         JValue *e=RefusalObject(res,symbol);
         e.Set("ticket",JInt((long)ticket));
         return FailWith(e);
        }
      string state=OrderStateOf(ticket);
      if(state=="" || IsOpenState(state))
         state="canceled";
      JValue *r=JObj();
      r.Set("ticket",JInt((long)ticket));
      r.Set("duplicate",JBool(false));
      r.Set("state",JStr(state));
      r.Set("retcode",JRetcode(res.retcode));
      r.Set("retcode_name",JStr(RetcodeName(res.retcode)));
      return r;
     }
   if(HistoryOrderSelect(ticket))
     {
      string state=OrderStateName(HistoryOrderGetInteger(ticket,ORDER_STATE));
      if(state=="canceled")
        {
         //--- canceled already: idempotent by its order
         JValue *r=JObj();
         r.Set("ticket",JInt((long)ticket));
         r.Set("duplicate",JBool(true));
         r.Set("state",JStr(state));
         return r;
        }
      return ErrTicket("CLOSED","order "+IntegerToString((long)ticket)+" is "+state,ticket);
     }
   return Err("NOT_FOUND","no order for "+what);
  }

bool SamePrice(const double a,const double b,const double point)
  {
   return MathAbs(a-b)<point/2.0;
  }

JValue *CmdModifyOrder(JValue *args)
  {
   if(!ArgKeys(args,"client_order_id,ticket,price,stop_price,sl,tp,time_in_force,expiration"))
      return NULL;
   if(args.Size()<2)
      return Err("BAD_REQUEST","name at least one of price, stop_price, sl, tp, time_in_force, expiration");
   string price,stopPrice,tif;
   long expiration=0;
   if(!ArgDecimal(args,"price",false,price) ||
      !ArgDecimal(args,"stop_price",false,stopPrice) ||
      !ArgEnum(args,"time_in_force",false,"GTC,DAY,SPECIFIED,SPECIFIED_DAY",tif) ||
      !ArgInt(args,"expiration",false,0,expiration))
      return NULL;
   //--- sl and tp: a price sets, null removes, absence keeps
   JValue *slArg=args.Get("sl");
   JValue *tpArg=args.Get("tp");
   if(slArg!=NULL && !slArg.IsNull() && !(slArg.IsString() && IsPositiveDecimalText(slArg.text)))
      return Err("BAD_REQUEST","sl must be a positive decimal string or null");
   if(tpArg!=NULL && !tpArg.IsNull() && !(tpArg.IsString() && IsPositiveDecimalText(tpArg.text)))
      return Err("BAD_REQUEST","tp must be a positive decimal string or null");
   ulong ticket;
   string what;
   if(!OrderTarget(args,ticket,what))
      return NULL;
   if(!OrderSelect(ticket))
     {
      if(HistoryOrderSelect(ticket))
         return ErrTicket("CLOSED","order "+IntegerToString((long)ticket)+" is "+
                          OrderStateName(HistoryOrderGetInteger(ticket,ORDER_STATE)),ticket);
      return Err("NOT_FOUND","no order for "+what);
     }
   string symbol=OrderGetString(ORDER_SYMBOL);
   long   type=OrderGetInteger(ORDER_TYPE);
   string kind=OrderTypeName(type);
   double curOpen=OrderGetDouble(ORDER_PRICE_OPEN);
   double curStopLimit=OrderGetDouble(ORDER_PRICE_STOPLIMIT);
   double curSl=OrderGetDouble(ORDER_SL);
   double curTp=OrderGetDouble(ORDER_TP);
   long   curTime=OrderGetInteger(ORDER_TYPE_TIME);
   long   curExpiration=OrderGetInteger(ORDER_TIME_EXPIRATION);
   if(kind=="market")
      return Err("BAD_REQUEST","order "+IntegerToString((long)ticket)+" is a market order: only a pending order can be modified");
   if(kind=="stop" && price!="")
      return Err("BAD_REQUEST","a stop order has no limit price: its trigger is stop_price");
   if(kind=="limit" && stopPrice!="")
      return Err("BAD_REQUEST","a limit order has no trigger: its price is price");

   //--- MT5's modify replaces all of them: start from the order's values
   double newOpen=curOpen;
   double newStopLimit=curStopLimit;
   if(kind=="limit" && price!="")
      newOpen=PriceOf(symbol,price);
   if(kind=="stop" && stopPrice!="")
      newOpen=PriceOf(symbol,stopPrice);
   if(kind=="stop_limit")
     {
      if(stopPrice!="")
         newOpen=PriceOf(symbol,stopPrice);
      if(price!="")
         newStopLimit=PriceOf(symbol,price);
     }
   double newSl=curSl;
   if(slArg!=NULL)
      newSl=slArg.IsNull() ? 0.0 : PriceOf(symbol,slArg.text);
   double newTp=curTp;
   if(tpArg!=NULL)
      newTp=tpArg.IsNull() ? 0.0 : PriceOf(symbol,tpArg.text);
   long newTime=(tif!="") ? (long)TimeInForceOf(tif) : curTime;
   long newExpiration=args.Has("expiration") ? expiration/1000 : curExpiration;

   double point=SymbolInfoDouble(symbol,SYMBOL_POINT);
   JValue *before=OrderObject(ticket,false);
   bool unchanged=SamePrice(newOpen,curOpen,point) && SamePrice(newStopLimit,curStopLimit,point) &&
                  SamePrice(newSl,curSl,point) && SamePrice(newTp,curTp,point) &&
                  newTime==curTime && newExpiration==curExpiration;
   if(unchanged)
     {
      //--- idempotent by its values: a repeat changes nothing (what MT5 answers NO_CHANGES)
      JValue *r=JObj();
      r.Set("ticket",JInt((long)ticket));
      r.Set("duplicate",JBool(true));
      r.Set("order",before);
      r.Set("retcode",JInt(10025));
      r.Set("retcode_name",JStr(RetcodeName(10025)));
      return r;
     }
   if(!CanSend())
     {
      delete before;
      return NULL;
     }
   MqlTradeRequest req;
   ZeroMemory(req);
   req.action=TRADE_ACTION_MODIFY;
   req.order=ticket;
   req.symbol=symbol;
   req.price=newOpen;
   req.stoplimit=newStopLimit;
   req.sl=newSl;
   req.tp=newTp;
   req.type_time=(ENUM_ORDER_TYPE_TIME)newTime;
   req.expiration=(datetime)newExpiration;
   MqlTradeResult res;
   ZeroMemory(res);
   ResetLastError();
   OrderSend(req,res);
   int error=GetLastError();
   if(res.retcode==0)
     {
      delete before;
      return ErrTicket("UNKNOWN_OUTCOME",StringFormat("OrderSend failed with error %d and no retcode: ask get_order",error),ticket);
     }
   string outcome=OutcomeOf(res.retcode);
   if(outcome!=OUT_OK && outcome!=OUT_NO_CHANGE)
     {
      delete before;
      JValue *e=RefusalObject(res,symbol);
      e.Set("ticket",JInt((long)ticket));
      return FailWith(e);
     }
   //--- the order as it is now; the terminal's copy may lag the server's answer, so the
   //--- values the server accepted are written over an order still open
   JValue *order=OrderJson(ticket);
   if(order==NULL)
      order=before;
   else
      delete before;
   JValue *state=order.Get("state");
   if(outcome==OUT_OK && state!=NULL && IsOpenState(state.text))
     {
      if(kind=="limit")
         order.Set("price",JPrice(symbol,newOpen));
      else if(kind=="stop")
         order.Set("stop_price",JPrice(symbol,newOpen));
      else
        {
         order.Set("price",JPrice(symbol,newStopLimit));
         order.Set("stop_price",JPrice(symbol,newOpen));
        }
      order.Set("sl",JPrice(symbol,newSl));
      order.Set("tp",JPrice(symbol,newTp));
      order.Set("time_in_force",JStr(TimeInForceName(newTime)));
      order.Set("expiration",JMsOrNull(newExpiration*1000));
     }
   JValue *r=JObj();
   r.Set("ticket",JInt((long)ticket));
   r.Set("duplicate",JBool(outcome==OUT_NO_CHANGE));
   r.Set("order",order);
   r.Set("retcode",JRetcode(res.retcode));
   r.Set("retcode_name",JStr(RetcodeName(res.retcode)));
   return r;
  }

JValue *CmdGetOrder(JValue *args)
  {
   if(!ArgKeys(args,"client_order_id,ticket"))
      return NULL;
   ulong ticket;
   string what;
   if(!OrderTarget(args,ticket,what))
      return NULL;
   JValue *order=OrderJson(ticket);
   if(order==NULL)
      return Err("NOT_FOUND","no order for "+what);
   JValue *r=JObj();
   r.Set("order",order);
   return r;
  }

//+------------------------------------------------------------------+
//| get_open_orders, get_positions, get_account, get_deals           |
//+------------------------------------------------------------------+
JValue *CmdGetOpenOrders(JValue *args)
  {
   if(!ArgKeys(args,"symbol"))
      return NULL;
   string symbol;
   if(!ArgString(args,"symbol",false,32,symbol))
      return NULL;
   ulong tickets[];
   int n=0;
   for(int i=OrdersTotal()-1;i>=0;i--)
     {
      ulong t=OrderGetTicket(i);
      if(t==0)
         continue;
      if(symbol!="" && OrderGetString(ORDER_SYMBOL)!=symbol)
         continue;
      if(!IsPendingType(OrderGetInteger(ORDER_TYPE)))
         continue;                       // a market order in flight is not a resting order
      ArrayResize(tickets,n+1);
      tickets[n++]=t;
     }
   if(n>1)
      ArraySort(tickets);
   JValue *orders=JArr();
   for(int k=0;k<n;k++)
      if(OrderSelect(tickets[k]))
         orders.Add(OrderObject(tickets[k],false));
   JValue *r=JObj();
   r.Set("orders",orders);
   return r;
  }

JValue *CmdGetPositions(JValue *args)
  {
   if(!ArgKeys(args,"symbol"))
      return NULL;
   string symbol;
   if(!ArgString(args,"symbol",false,32,symbol))
      return NULL;
   ulong ids[];
   int n=0;
   for(int i=PositionsTotal()-1;i>=0;i--)
     {
      ulong t=PositionGetTicket(i);
      if(t==0)
         continue;
      if(symbol!="" && PositionGetString(POSITION_SYMBOL)!=symbol)
         continue;
      ArrayResize(ids,n+1);
      ids[n++]=(ulong)PositionGetInteger(POSITION_IDENTIFIER);
     }
   if(n>1)
      ArraySort(ids);
   JValue *positions=JArr();
   for(int k=0;k<n;k++)
      if(SelectPosition(ids[k]))
         positions.Add(PositionObject());
   JValue *r=JObj();
   r.Set("positions",positions);
   return r;
  }

JValue *CmdGetAccount(JValue *args)
  {
   if(!ArgKeys(args,""))
      return NULL;
   JValue *r=JObj();
   r.Set("account",AccountObject());
   return r;
  }

JValue *CmdGetDeals(JValue *args)
  {
   if(!ArgKeys(args,"since,until,symbol"))
      return NULL;
   long since=0;
   long until=0;
   string symbol;
   if(!ArgInt(args,"since",true,0,since) ||
      !ArgInt(args,"until",false,0,until) ||
      !ArgString(args,"symbol",false,32,symbol))
      return NULL;
   bool bounded=args.Has("until");
   datetime from=(datetime)(since/1000);
   datetime to=bounded ? (datetime)(until/1000+1) : TimeCurrent()+86400;
   if(!HistorySelect(from,to))
      return Err("INTERNAL","the terminal could not read the history");
   JValue *deals=JArr();
   int total=HistoryDealsTotal();
   for(int i=0;i<total;i++)
     {
      ulong d=HistoryDealGetTicket(i);
      if(d==0 || !IsTradeDeal(d))
         continue;
      long timeMs=HistoryDealGetInteger(d,DEAL_TIME_MSC);
      if(timeMs<since || (bounded && timeMs>until))
         continue;
      if(symbol!="" && HistoryDealGetString(d,DEAL_SYMBOL)!=symbol)
         continue;
      JValue *deal=DealObject(d);
      if(deal!=NULL)
         deals.Add(deal);
     }
   JValue *r=JObj();
   r.Set("deals",deals);
   return r;
  }

//+------------------------------------------------------------------+
//| events_since                                                     |
//+------------------------------------------------------------------+
JValue *CmdEventsSince(JValue *args)
  {
   if(!ArgKeys(args,"seq"))
      return NULL;
   long seq=0;
   if(!ArgInt(args,"seq",true,0,seq))
      return NULL;
   //--- complete: seq is not ahead of this session, and the ring still holds seq+1
   //--- (or nothing is missing)
   bool complete=(seq<=g_seq) && (seq==g_seq || seq+1>=RingOldestSeq());
   JValue *events=JArr();
   if(complete)
      RingCollect(seq,events);
   JValue *r=JObj();
   r.Set("events",events);
   r.Set("complete",JBool(complete));
   return r;
  }

//+------------------------------------------------------------------+
//| Dispatch: one table of commands                                  |
//+------------------------------------------------------------------+
typedef JValue *(*CommandFn)(JValue *args);

#define OG_COMMANDS 15
string    g_cmdName[OG_COMMANDS];
CommandFn g_cmdFn[OG_COMMANDS];

void RegisterCommands(void)
  {
   g_cmdName[0] ="hello";             g_cmdFn[0] =CmdHello;
   g_cmdName[1] ="ping";              g_cmdFn[1] =CmdPing;
   g_cmdName[2] ="get_symbols";       g_cmdFn[2] =CmdGetSymbols;
   g_cmdName[3] ="get_quotes";        g_cmdFn[3] =CmdGetQuotes;
   g_cmdName[4] ="submit_order";      g_cmdFn[4] =CmdSubmitOrder;
   g_cmdName[5] ="cancel_order";      g_cmdFn[5] =CmdCancelOrder;
   g_cmdName[6] ="modify_order";      g_cmdFn[6] =CmdModifyOrder;
   g_cmdName[7] ="get_order";         g_cmdFn[7] =CmdGetOrder;
   g_cmdName[8] ="get_open_orders";   g_cmdFn[8] =CmdGetOpenOrders;
   g_cmdName[9] ="get_positions";     g_cmdFn[9] =CmdGetPositions;
   g_cmdName[10]="get_account";       g_cmdFn[10]=CmdGetAccount;
   g_cmdName[11]="close_position";    g_cmdFn[11]=CmdClosePosition;
   g_cmdName[12]="close_all";         g_cmdFn[12]=CmdCloseAll;
   g_cmdName[13]="get_deals";         g_cmdFn[13]=CmdGetDeals;
   g_cmdName[14]="events_since";      g_cmdFn[14]=CmdEventsSince;
  }

int FindCommand(const string name)
  {
   for(int i=0;i<OG_COMMANDS;i++)
      if(g_cmdName[i]==name)
         return i;
   return -1;
  }

//--- answer one request frame; `multipart` when the request came in several frames
string HandleRequest(const string text,const bool multipart)
  {
   ClearError();
   string parseError;
   JValue *request=JParse(text,parseError);
   JValue *result=NULL;
   string reqId="";
   if(request==NULL)
      Err("BAD_REQUEST","the frame is not JSON: "+parseError);
   else if(!request.IsObject())
      Err("BAD_REQUEST","a request is a JSON object");
   else
     {
      //--- req_id is echoed when it can be read at all
      JValue *rid=request.Get("req_id");
      if(rid!=NULL && rid.IsString() && StringLen(rid.text)>=1 && StringLen(rid.text)<=64)
         reqId=rid.text;
      JValue *v=request.Get("v");
      JValue *cmd=request.Get("cmd");
      JValue *args=request.Get("args");
      bool extraField=false;
      for(int i=0;i<request.Size();i++)
        {
         string k=request.keys[i];
         if(k!="v" && k!="req_id" && k!="cmd" && k!="args")
            extraField=true;
        }
      if(v==NULL || !v.IsNumber())
         Err("BAD_REQUEST","v is required");
      else if(StringToDouble(v.text)!=OG_VERSION)
         Err("UNSUPPORTED_VERSION","this EA speaks version "+IntegerToString(OG_VERSION)+", not "+v.text);
      else if(multipart)
         Err("BAD_REQUEST","a request is one frame");
      else if(reqId=="")
         Err("BAD_REQUEST","req_id must be a string of 1 to 64 characters");
      else if(extraField)
         Err("BAD_REQUEST","a request has only v, req_id, cmd and args");
      else if(cmd==NULL || !cmd.IsString())
         Err("BAD_REQUEST","cmd must be a string");
      else if(args==NULL || !args.IsObject())
         Err("BAD_REQUEST","args must be an object");
      else
        {
         int k=FindCommand(cmd.text);
         if(k<0)
            Err("UNKNOWN_COMMAND","no command "+cmd.text);
         else
           {
            CommandFn fn=g_cmdFn[k];
            result=fn(args);
           }
        }
     }
   //--- the reply: v, req_id, ok, session, last_seq (after what the command published),
   //--- and result or error, never both
   JValue *reply=JObj();
   reply.Set("v",JInt(OG_VERSION));
   reply.Set("req_id",reqId=="" ? JNull() : JStr(reqId));
   reply.Set("ok",JBool(result!=NULL));
   reply.Set("session",JStr(g_session));
   reply.Set("last_seq",JInt(g_seq));
   if(result!=NULL)
     {
      reply.Set("result",result);
      ClearError();
     }
   else
     {
      JValue *error=g_err;
      g_err=NULL;
      if(error==NULL)
         error=ErrorObject("INTERNAL","the command failed without saying why");
      reply.Set("error",error);
     }
   string json=reply.Serialize();
   delete reply;
   if(request!=NULL)
      delete request;
   return json;
  }

//+------------------------------------------------------------------+
//| 8. Events from the trade server's transactions                   |
//|                                                                  |
//| MT5 does not guarantee the order of the transactions one request |
//| produces (ORDER_ADD, DEAL_ADD, ORDER_DELETE, HISTORY_ADD,        |
//| REQUEST), so each is handled on its own:                         |
//| - DEAL_ADD: `fill` (each deal once), then `position` for its     |
//|   position and `account`.                                        |
//| - ORDER_ADD / ORDER_UPDATE: `order_accepted` when a pending      |
//|   order is first on the book (PLACED), `order_modified` when the |
//|   values of an accepted order change.                            |
//| - HISTORY_ADD (and ORDER_DELETE, as a fallback): the order's     |
//|   final state in history: `order_canceled`, `order_expired`, or  |
//|   `order_rejected` for a pending order refused after the reply.  |
//| - POSITION: `position` (SL/TP changed, no deal).                 |
//| - REQUEST: the retcode, kept for a later `order_rejected`.       |
//| A deal or an order not yet in the history is tried again from    |
//| the timer; a periodic sweep publishes any deal of this session   |
//| whose DEAL_ADD was lost (MT5's event queue is bounded).          |
//+------------------------------------------------------------------+
CHashSet<ulong>         g_dealsPublished;     // deals published as `fill` (or seen, if no trade)
CHashSet<ulong>         g_ordersAccepted;     // pending orders published as accepted
CHashSet<ulong>         g_ordersFinal;        // orders whose end was handled
CHashMap<ulong,string>  g_orderSig;           // ticket -> the values last published
CHashMap<ulong,string>  g_orderLast;          // ticket -> the order object last seen (json)
CHashMap<ulong,uint>    g_requestRetcode;     // order ticket -> retcode of its last request

#define RETRY_DEAL  1
#define RETRY_ORDER 2
int      g_retryKind[];
ulong    g_retryTicket[];
long     g_retryState[];
ulong    g_retrySince[];
int      g_retryCount=0;

string   g_lastAccountKey="";

void EventsReset(void)
  {
   g_dealsPublished.Clear();
   g_ordersAccepted.Clear();
   g_ordersFinal.Clear();
   g_orderSig.Clear();
   g_orderLast.Clear();
   g_requestRetcode.Clear();
   ArrayResize(g_retryKind,0);
   ArrayResize(g_retryTicket,0);
   ArrayResize(g_retryState,0);
   ArrayResize(g_retrySince,0);
   g_retryCount=0;
   g_lastAccountKey="";
  }

//--- what an `account` event is published again for
string AccountKey(void)
  {
   return FmtMoney(AccountInfoDouble(ACCOUNT_BALANCE))+"|"+FmtMoney(AccountInfoDouble(ACCOUNT_MARGIN));
  }

void PublishAccount(void)
  {
   JValue *ev=EventBegin("account",ServerMs());
   ev.Set("account",AccountObject());
   Publish(ev);
   g_lastAccountKey=AccountKey();
  }

//--- `position` for position `id`: the position, or closed with none
void PublishPosition(const ulong id,const string symbol)
  {
   if(id==0)
      return;
   bool open=SelectPosition(id);
   string name=open ? PositionGetString(POSITION_SYMBOL) : symbol;
   if(name=="")
      return;                                // a position event names its symbol
   JValue *ev=EventBegin("position",ServerMs());
   ev.Set("position_id",JInt((long)id));
   ev.Set("symbol",JStr(name));
   ev.Set("closed",JBool(!open));
   ev.Set("position",open ? PositionObject() : JNull());
   Publish(ev);
  }

//--- `fill` for a deal, once; false when the deal is not in the history yet
bool PublishDeal(const ulong deal)
  {
   if(deal==0 || g_dealsPublished.Contains(deal))
      return true;
   if(!HistoryDealSelect(deal))
      return false;
   long   timeMs=HistoryDealGetInteger(deal,DEAL_TIME_MSC);
   string symbol=HistoryDealGetString(deal,DEAL_SYMBOL);
   ulong  positionId=(ulong)HistoryDealGetInteger(deal,DEAL_POSITION_ID);
   JValue *d=DealObject(deal);              // NULL for a balance operation
   g_dealsPublished.Add(deal);
   if(d!=NULL)
     {
      JValue *ev=EventBegin("fill",timeMs);
      ev.Set("deal",d);
      Publish(ev);
      PublishPosition(positionId,symbol);
     }
   PublishAccount();
   return true;
  }

//--- the values of the selected open order that a modify changes
string OrderSignature(void)
  {
   return IntegerToString(OrderGetInteger(ORDER_TYPE))+"|"+
          DoubleToString(OrderGetDouble(ORDER_PRICE_OPEN),10)+"|"+
          DoubleToString(OrderGetDouble(ORDER_PRICE_STOPLIMIT),10)+"|"+
          DoubleToString(OrderGetDouble(ORDER_SL),10)+"|"+
          DoubleToString(OrderGetDouble(ORDER_TP),10)+"|"+
          IntegerToString(OrderGetInteger(ORDER_TYPE_TIME))+"|"+
          IntegerToString(OrderGetInteger(ORDER_TIME_EXPIRATION));
  }

//--- ORDER_ADD or ORDER_UPDATE of `ticket`
void OnOrderChanged(const ulong ticket)
  {
   if(ticket==0 || !OrderSelect(ticket))
      return;                                // gone already: its end comes from the history
   if(!IsPendingType(OrderGetInteger(ORDER_TYPE)))
      return;
   string state=OrderStateName(OrderGetInteger(ORDER_STATE));
   string sig=OrderSignature();
   JValue *order=OrderObject(ticket,false);
   g_orderLast.TrySetValue(ticket,order.Serialize());
   if(!g_ordersAccepted.Contains(ticket))
     {
      if(state!="placed" && state!="partial")
        {
         delete order;                       // not on the book yet (started, request_add)
         return;
        }
      g_ordersAccepted.Add(ticket);
      g_orderSig.TrySetValue(ticket,sig);
      JValue *ts=order.Get("time_setup");
      JValue *ev=EventBegin("order_accepted",ts!=NULL ? ts.AsLong() : ServerMs());
      ev.Set("order",order);
      Publish(ev);
      return;
     }
   string before="";
   g_orderSig.TryGetValue(ticket,before);
   if(before==sig)
     {
      delete order;                          // a fill or a state change: no modify
      return;
     }
   g_orderSig.TrySetValue(ticket,sig);
   JValue *ev=EventBegin("order_modified",ServerMs());
   ev.Set("order",order);
   Publish(ev);
  }

//--- the event for an order's end, from its object (taken over)
void EmitOrderFinal(const ulong ticket,JValue *order)
  {
   g_ordersFinal.Add(ticket);
   g_ordersAccepted.Remove(ticket);
   g_orderSig.Remove(ticket);
   g_orderLast.Remove(ticket);
   uint lastRetcode=0;
   bool hadRequest=g_requestRetcode.TryGetValue(ticket,lastRetcode);
   g_requestRetcode.Remove(ticket);

   JValue *stateV=order.Get("state");
   JValue *typeV=order.Get("type");
   JValue *doneV=order.Get("time_done");
   string state=(stateV!=NULL) ? stateV.text : "";
   string type=(typeV!=NULL) ? typeV.text : "market";
   long ts=(doneV!=NULL && doneV.IsInteger()) ? doneV.AsLong() : ServerMs();

   if(state=="canceled" || state=="expired")
     {
      bool emit=(type!="market");
      if(!emit)
        {
         //--- a market order canceled is the rest of a partial IOC: only when part filled
         JValue *vi=order.Get("volume_initial");
         JValue *vc=order.Get("volume_current");
         double initial=(vi!=NULL) ? StringToDouble(vi.text) : 0.0;
         double current=(vc!=NULL) ? StringToDouble(vc.text) : 0.0;
         emit=(current>0.0 && current<initial);
        }
      if(emit)
        {
         JValue *ev=EventBegin(state=="canceled" ? "order_canceled" : "order_expired",ts);
         ev.Set("order",order);
         Publish(ev);
         return;
        }
      delete order;
      return;
     }
   if(state=="rejected" && type!="market")
     {
      //--- refused after the reply. An id whose refusal the reply gave is not told twice.
      JValue *coidV=order.Get("client_order_id");
      string coid=(coidV!=NULL && coidV.IsString()) ? coidV.text : "";
      int slot=(coid!="") ? IdsFind(coid) : -1;
      if(slot>=0 && g_idState[slot]==ID_REFUSED)
        {
         delete order;
         return;
        }
      uint retcode=(hadRequest && OutcomeOf(lastRetcode)!=OUT_OK) ? lastRetcode : 10006;
      JValue *ev=EventBegin("order_rejected",ServerMs());
      ev.Set("client_order_id",JStrOrNull(coid));
      ev.Set("ticket",JInt((long)ticket));
      ev.Set("retcode",JRetcode(retcode));
      ev.Set("retcode_name",JStr(RetcodeName(retcode)));
      ev.Set("message",JStr("the trade server rejected the order after it was accepted"));
      Publish(ev);
      delete order;
      return;
     }
   delete order;                             // filled (the fills told it) or still open
  }

//--- the end of an order from the history; false when the history does not have it yet
bool PublishOrderFinal(const ulong ticket)
  {
   if(ticket==0 || g_ordersFinal.Contains(ticket))
      return true;
   if(OrderSelect(ticket))
      return false;                          // still open (HISTORY_ADD before ORDER_DELETE)
   if(!HistoryOrderSelect(ticket))
      return false;
   JValue *order=OrderObject(ticket,true);
   JValue *stateV=order.Get("state");
   if(stateV==NULL || IsOpenState(stateV.text))
     {
      delete order;
      return false;
     }
   EmitOrderFinal(ticket,order);
   return true;
  }

//--- the history never showed the order: its last known object, with the state the
//--- transaction gave
void PublishOrderFinalFromCache(const ulong ticket,const long state)
  {
   if(g_ordersFinal.Contains(ticket))
      return;
   string json;
   if(!g_orderLast.TryGetValue(ticket,json))
     {
      g_ordersFinal.Add(ticket);
      return;
     }
   string error;
   JValue *order=JParse(json,error);
   if(order==NULL)
      return;
   order.Set("state",JStr(OrderStateName(state)));
   order.Set("time_done",JInt(ServerMs()));
   EmitOrderFinal(ticket,order);
  }

void RetryAdd(const int kind,const ulong ticket,const long state)
  {
   for(int i=0;i<g_retryCount;i++)
      if(g_retryKind[i]==kind && g_retryTicket[i]==ticket)
        {
         g_retryState[i]=state;
         return;
        }
   ArrayResize(g_retryKind,g_retryCount+1,64);
   ArrayResize(g_retryTicket,g_retryCount+1,64);
   ArrayResize(g_retryState,g_retryCount+1,64);
   ArrayResize(g_retrySince,g_retryCount+1,64);
   g_retryKind[g_retryCount]=kind;
   g_retryTicket[g_retryCount]=ticket;
   g_retryState[g_retryCount]=state;
   g_retrySince[g_retryCount]=GetTickCount64();
   g_retryCount++;
  }

//--- try the waiting deals and orders again
void RetryRun(void)
  {
   int kept=0;
   ulong now=GetTickCount64();
   for(int i=0;i<g_retryCount;i++)
     {
      bool done;
      if(g_retryKind[i]==RETRY_DEAL)
         done=PublishDeal(g_retryTicket[i]);
      else
         done=PublishOrderFinal(g_retryTicket[i]);
      if(!done && now-g_retrySince[i]>=(ulong)OG_RETRY_MS)
        {
         if(g_retryKind[i]==RETRY_ORDER)
           {
            if(!OrderSelect(g_retryTicket[i]))
               PublishOrderFinalFromCache(g_retryTicket[i],g_retryState[i]);
           }
         else
            PrintFormat("OrdergateBridge: deal %I64u not in the history after %d ms; the sweep will look again",
                        g_retryTicket[i],OG_RETRY_MS);
         done=true;
        }
      if(done)
         continue;
      g_retryKind[kept]=g_retryKind[i];
      g_retryTicket[kept]=g_retryTicket[i];
      g_retryState[kept]=g_retryState[i];
      g_retrySince[kept]=g_retrySince[i];
      kept++;
     }
   g_retryCount=kept;
  }

//--- publish any deal of this session that no DEAL_ADD brought
void SweepDeals(void)
  {
   datetime from=(datetime)(g_sessionStartMs/1000-60);
   if(!HistorySelect(from,TimeCurrent()+86400))
      return;
   ulong missed[];
   int n=0;
   int total=HistoryDealsTotal();
   for(int i=0;i<total;i++)
     {
      ulong d=HistoryDealGetTicket(i);
      if(d==0 || g_dealsPublished.Contains(d))
         continue;
      if(HistoryDealGetInteger(d,DEAL_TIME_MSC)<g_sessionStartMs)
         continue;
      ArrayResize(missed,n+1,64);
      missed[n++]=d;
     }
   //--- collected first: PublishDeal selects each deal, which replaces the history cache
   for(int k=0;k<n;k++)
      PublishDeal(missed[k]);
  }

//--- the pending orders on the book when a session starts count as accepted already
void SeedOpenOrders(void)
  {
   for(int i=OrdersTotal()-1;i>=0;i--)
     {
      ulong t=OrderGetTicket(i);
      if(t==0 || !IsPendingType(OrderGetInteger(ORDER_TYPE)))
         continue;
      string state=OrderStateName(OrderGetInteger(ORDER_STATE));
      if(state!="placed" && state!="partial")
         continue;
      g_ordersAccepted.Add(t);
      g_orderSig.TrySetValue(t,OrderSignature());
      JValue *order=OrderObject(t,false);
      g_orderLast.TrySetValue(t,order.Serialize());
      delete order;
     }
  }

void OnTradeTransaction(const MqlTradeTransaction &trans,
                        const MqlTradeRequest &request,
                        const MqlTradeResult &result)
  {
   if(!g_started)
      return;
   switch(trans.type)
     {
      case TRADE_TRANSACTION_DEAL_ADD:
         if(!PublishDeal(trans.deal))
            RetryAdd(RETRY_DEAL,trans.deal,0);
         break;
      case TRADE_TRANSACTION_ORDER_ADD:
      case TRADE_TRANSACTION_ORDER_UPDATE:
         OnOrderChanged(trans.order);
         break;
      case TRADE_TRANSACTION_ORDER_DELETE:
         //--- the order left the book; HISTORY_ADD normally tells how. Try from the timer.
         if(trans.order>0 && !g_ordersFinal.Contains(trans.order))
            RetryAdd(RETRY_ORDER,trans.order,(long)trans.order_state);
         break;
      case TRADE_TRANSACTION_HISTORY_ADD:
         if(trans.order>0 && !PublishOrderFinal(trans.order))
            RetryAdd(RETRY_ORDER,trans.order,(long)trans.order_state);
         break;
      case TRADE_TRANSACTION_POSITION:
         PublishPosition(trans.position,trans.symbol);
         break;
      case TRADE_TRANSACTION_REQUEST:
         if(result.order>0 && result.retcode!=0)
            g_requestRetcode.TrySetValue(result.order,result.retcode);
         break;
      default:
         break;
     }
  }

//+------------------------------------------------------------------+
//| 9. Lifecycle: OnInit, OnDeinit, OnTimer                          |
//+------------------------------------------------------------------+
ulong g_lastHeartbeat=0;      // GetTickCount64 of the last heartbeat
ulong g_lastSnapshot=0;       // GetTickCount64 of the last account snapshot

//--- a socket that never blocks the terminal when it closes
Socket *OpenSocket(const int type,const string endpoint)
  {
   Socket *s=new Socket(g_ctx,type);
   if(!s.valid())
     {
      PrintFormat("OrdergateBridge: cannot create a socket: %s",Zmq::errorMessage());
      delete s;
      return NULL;
     }
   s.setLinger(0);
   if(type==ZMQ_PUB)
      s.setSendHighWaterMark(100000);
   if(!s.bind(endpoint))
     {
      PrintFormat("OrdergateBridge: cannot bind %s: %s",endpoint,Zmq::errorMessage());
      delete s;
      return NULL;
     }
   return s;
  }

void CloseSockets(void)
  {
   if(g_rep!=NULL)
     {
      delete g_rep;
      g_rep=NULL;
     }
   if(g_pub!=NULL)
     {
      delete g_pub;
      g_pub=NULL;
     }
  }

void Stop(void)
  {
   g_started=false;
   CloseSockets();
   IdsClose();
   EventsReset();
   ClearError();
  }

//--- bind, read the id map back, open a new session. Needs the account's login.
bool Start(void)
  {
   long login=AccountInfoInteger(ACCOUNT_LOGIN);
   if(login<=0)
      return false;
   g_rep=OpenSocket(ZMQ_REP,InpRepEndpoint);
   g_pub=OpenSocket(ZMQ_PUB,InpPubEndpoint);
   if(g_rep==NULL || g_pub==NULL)
     {
      Stop();
      return false;
     }
   if(!IdsLoad(login))
     {
      Stop();
      return false;
     }
   g_login=login;
   EventsReset();
   g_sessionStartMs=ServerMs();
   g_session=NewSessionId(login,g_sessionStartMs);
   g_seq=0;
   RingReset(InpRingSize);
   SeedOpenOrders();
   g_lastAccountKey=AccountKey();
   g_lastHeartbeat=GetTickCount64();
   g_lastSnapshot=g_lastHeartbeat;
   g_started=true;
   PrintFormat("OrdergateBridge: session %s, commands on %s, events on %s, %d ids read from %s",
               g_session,InpRepEndpoint,InpPubEndpoint,g_idByCoid.Count(),g_idPath);
   return true;
  }

int OnInit(void)
  {
   RegisterCommands();
   g_started=false;
   g_session="";
   if(InpRingSize<1 || InpHeartbeatMs<1 || InpAccountSnapshotSeconds<1 || InpTimerMs<1 ||
      InpDefaultDeviation<0 || InpDefaultMagic<0)
     {
      Print("OrdergateBridge: the settings must be positive");
      return INIT_PARAMETERS_INCORRECT;
     }
   if(!EventSetMillisecondTimer(InpTimerMs))
     {
      PrintFormat("OrdergateBridge: cannot set the timer (error %d)",GetLastError());
      return INIT_FAILED;
     }
   //--- the terminal may not be logged in yet: then the timer starts the bridge
   if(AccountInfoInteger(ACCOUNT_LOGIN)>0 && !Start())
     {
      EventKillTimer();
      return INIT_FAILED;
     }
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   EventKillTimer();
   Stop();
  }

//--- the REP socket is stuck if a reply could not be sent: open it again
void ReopenRep(void)
  {
   if(g_rep!=NULL)
      delete g_rep;
   g_rep=OpenSocket(ZMQ_REP,InpRepEndpoint);
  }

//--- answer the requests waiting, one at a time, never blocking
void ServeRequests(void)
  {
   for(int served=0;served<OG_MAX_REQUESTS;served++)
     {
      if(g_rep==NULL)
        {
         ReopenRep();
         if(g_rep==NULL)
            return;
        }
      ZmqMsg request;
      if(!g_rep.recv(request,true))          // ZMQ_DONTWAIT: never blocks the terminal
         return;                             // nothing waiting (EAGAIN)
      string text=request.getData();
      //--- a request is one frame: read and drop any further part
      bool multipart=false;
      bool more=request.more();
      while(more)
        {
         ZmqMsg part;
         if(!g_rep.recv(part,true))
            break;
         multipart=true;
         more=part.more();
        }
      string reply=HandleRequest(text,multipart);
      ZmqMsg answer(reply);
      if(!g_rep.send(answer,true))
        {
         PrintFormat("OrdergateBridge: reply not sent: %s",Zmq::errorMessage());
         ReopenRep();
        }
     }
  }

void OnTimer(void)
  {
   if(!g_started)
     {
      if(AccountInfoInteger(ACCOUNT_LOGIN)>0 && !Start())
        {
         Print("OrdergateBridge: cannot start; removing the EA");
         ExpertRemove();
        }
      return;
     }
   ServeRequests();
   RetryRun();
   ulong now=GetTickCount64();
   if(now-g_lastSnapshot>=(ulong)InpAccountSnapshotSeconds*1000)
     {
      g_lastSnapshot=now;
      SweepDeals();
      PublishAccount();
     }
   if(now-g_lastHeartbeat>=(ulong)InpHeartbeatMs)
     {
      g_lastHeartbeat=now;
      if(AccountKey()!=g_lastAccountKey)
         PublishAccount();                   // balance or margin changed
      PublishHeartbeat();
     }
  }
//+------------------------------------------------------------------+
