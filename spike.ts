import { synthesizeDeployment } from './sandbox/deployment';
import { parseScenario } from './sandbox/scenario';
import * as fs from 'fs';
const d = synthesizeDeployment(parseScenario(JSON.parse(fs.readFileSync(process.argv[2],'utf8'))));
for (const [id, r] of Object.entries(d.resources)) {
  if (['AWS::IAM::Policy','AWS::IAM::Role','AWS::EC2::LaunchTemplate','AWS::EC2::SecurityGroup','AWS::IAM::InstanceProfile','AWS::Lambda::Function','AWS::EC2::VPCEndpoint','AWS::Lambda::Permission'].includes(r.Type)) {
    const p: any = { ...r.Properties }; if (p.Code) delete p.Code; if (p.LaunchTemplateData?.UserData) p.LaunchTemplateData.UserData='...'; if (p.Environment) delete p.Environment; if (p.SecurityGroupEgress) delete p.SecurityGroupEgress;
    console.log(id, r.Type, JSON.stringify(p));
  }
}
